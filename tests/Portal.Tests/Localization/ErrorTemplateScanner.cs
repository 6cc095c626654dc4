using System.Text;
using System.Text.RegularExpressions;

namespace ModelOps.Portal.Tests.Localization;

/// <summary>
/// Finds the English templates the portal's sources hand to <c>PortalException</c> (and to the
/// helpers that build one), as the compiler writes them into FormattableString.Format: each
/// interpolation hole becomes {0}, {1}, ... keeping its alignment and format ({0:X4}).
/// A small C# lexer, not a parser: enough for string literals, holes, nesting and escapes.
/// </summary>
public static partial class ErrorTemplateScanner
{
    /// <summary>A message-taking call and the index of its message argument.</summary>
    private static readonly (Regex Call, int Argument, string Suffix)[] Calls =
    [
        (new(@"\bPortalException\.NotFound\s*\("), 0, " was not found."),
        (new(@"\bPortalException\.Invalid\s*\("), 0, ""),
        (new(@"\bnew\s+PortalException\s*\("), 1, ""),
        (new(@"(?<![\w.])new\s*\(\s*(?=PortalError\.)"), 1, ""),
        (new(@"\bErrorMessage\.Of\s*\("), 0, ""),
        (new(@"(?<![\w.])(?:Unprocessable|Refuse|Bad)\s*\("), 0, ""),
        (new(@"\bRefuseWorkers\s*\("), 1, ""),
    ];

    public sealed record Template(string Text, string File, int Line);

    public static IReadOnlyList<Template> Scan(string sourceRoot)
    {
        var found = new List<Template>();
        foreach (var file in Directory.EnumerateFiles(sourceRoot, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(sourceRoot, file).Replace('\\', '/');
            if (relative.Split('/').Any(s => s is "bin" or "obj")) continue;
            var code = File.ReadAllText(file);
            foreach (var (call, argument, suffix) in Calls)
            {
                foreach (Match m in call.Matches(code))
                {
                    if (InsideStringOrComment(code, m.Index)) continue;
                    var args = Arguments(code, m.Index + m.Length);
                    if (args.Count <= argument) continue;
                    var arg = args[argument].Trim();
                    if (!arg.StartsWith('"') && !arg.StartsWith("$\"") && !arg.StartsWith("$@\"") && !arg.StartsWith("@$\"")) continue;
                    var (template, length) = ReadLiteral(arg, 0);
                    if (length != arg.Length) continue; // not a single literal (never a message then)
                    var line = code[..m.Index].Count(c => c == '\n') + 1;
                    found.Add(new(template + suffix, relative, line));
                }
            }
        }
        return found;
    }

    /// <summary>The top-level arguments of the call whose '(' ends just before <paramref name="start"/>.</summary>
    private static List<string> Arguments(string code, int start)
    {
        var args = new List<string>();
        var depth = 0;
        var from = start;
        for (var i = start; i < code.Length; i++)
        {
            var c = code[i];
            if (c == '"' || (c is '$' or '@' && i + 1 < code.Length && code[i + 1] is '"' or '$' or '@'))
            {
                var (_, length) = ReadLiteral(code, i);
                i += length - 1;
                continue;
            }
            if (c == '\'')
            {
                i = SkipChar(code, i);
                continue;
            }
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}')
            {
                if (depth == 0)
                {
                    args.Add(code[from..i]);
                    return args;
                }
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                args.Add(code[from..i]);
                from = i + 1;
            }
        }
        return args;
    }

    private static int SkipChar(string code, int i)
    {
        var j = i + 1;
        while (j < code.Length && code[j] != '\'')
            j += code[j] == '\\' ? 2 : 1;
        return j;
    }

    /// <summary>Reads the string literal at <paramref name="at"/>: (its composite-format text, its length in the source).</summary>
    public static (string Text, int Length) ReadLiteral(string code, int at)
    {
        var i = at;
        var interpolated = false;
        var verbatim = false;
        while (code[i] is '$' or '@')
        {
            if (code[i] == '$') interpolated = true; else verbatim = true;
            i++;
        }
        if (code[i] != '"') throw new FormatException($"No string literal at {at}.");
        i++;
        var text = new StringBuilder();
        var hole = 0;
        while (i < code.Length)
        {
            var c = code[i];
            if (c == '"')
            {
                if (verbatim && i + 1 < code.Length && code[i + 1] == '"')
                {
                    text.Append('"');
                    i += 2;
                    continue;
                }
                return (text.ToString(), i + 1 - at);
            }
            if (!verbatim && c == '\\')
            {
                var (unescaped, length) = Unescape(code, i);
                text.Append(unescaped);
                i += length;
                continue;
            }
            if (interpolated && c == '{')
            {
                if (code[i + 1] == '{')
                {
                    text.Append("{{");
                    i += 2;
                    continue;
                }
                var (spec, length) = ReadHole(code, i + 1);
                text.Append('{').Append(hole++).Append(spec).Append('}');
                i += 1 + length;
                continue;
            }
            if (interpolated && c == '}' && i + 1 < code.Length && code[i + 1] == '}')
            {
                text.Append("}}");
                i += 2;
                continue;
            }
            text.Append(c);
            i++;
        }
        throw new FormatException($"Unterminated string literal at {at}.");
    }

    /// <summary>Skips a hole's expression; returns its ",alignment:format" part and the length up to and including '}'.</summary>
    private static (string Spec, int Length) ReadHole(string code, int start)
    {
        var depth = 0;
        for (var i = start; i < code.Length; i++)
        {
            var c = code[i];
            if (c == '"' || (c is '$' or '@' && code[i + 1] is '"' or '$' or '@'))
            {
                var (_, length) = ReadLiteral(code, i);
                i += length - 1;
                continue;
            }
            if (c == '\'')
            {
                i = SkipChar(code, i);
                continue;
            }
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']') depth--;
            else if (c == '}' && depth > 0) depth--;
            else if (depth == 0 && c is ',' or ':' or '}')
            {
                // The format part runs verbatim to the closing brace.
                var end = code.IndexOf('}', i);
                var spec = c == '}' ? "" : code[i..end];
                if (c == ',' && spec.IndexOf(':') is var colon and > 0)
                    spec = Regex.Replace(spec[..colon], @"\s", "") + spec[colon..];
                else if (c == ',')
                    spec = Regex.Replace(spec, @"\s", "");
                return (spec, end + 1 - start);
            }
        }
        throw new FormatException($"Unterminated interpolation hole at {start}.");
    }

    private static (string Text, int Length) Unescape(string code, int i) => code[i + 1] switch
    {
        'n' => ("\n", 2),
        't' => ("\t", 2),
        'r' => ("\r", 2),
        '0' => ("\0", 2),
        '"' => ("\"", 2),
        '\'' => ("'", 2),
        '\\' => ("\\", 2),
        'u' => (((char)Convert.ToInt32(code.Substring(i + 2, 4), 16)).ToString(), 6),
        _ => (code.Substring(i, 2), 2),
    };

    /// <summary>Whether <paramref name="index"/> lies in a // or /// comment (enough for doc comments naming a call).</summary>
    private static bool InsideStringOrComment(string code, int index)
    {
        var lineStart = code.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        var before = code[lineStart..index];
        return before.Contains("//", StringComparison.Ordinal) && !before.Contains('"');
    }
}
