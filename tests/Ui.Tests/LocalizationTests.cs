using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ModelOps.Ui.Tests;

/// <summary>
/// Every UI string goes through IStringLocalizer, and both languages are complete: each resx has a
/// zh-CN sibling with the same keys, every key a page asks for exists, and no page carries literal
/// English text. These read the source, so a missing translation fails here, not in a user's browser.
/// </summary>
public sealed partial class LocalizationTests
{
    /// <summary>Text that is the same in every language.</summary>
    private static readonly HashSet<string> Untranslated = new(StringComparer.Ordinal)
    {
        "ModelOps Portal", "English", "简体中文", "🗙", "API", "ID", "CSV", "IDX", "JSON", "URL", "REST", "GPU", "CPU", "PyTorch", "TorchSharp", "MLP", "CNN",
    };

    public static TheoryData<string> ResourceFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in RepoFiles.Portal(".resx").Where(f => !f.EndsWith(".zh-CN.resx", StringComparison.Ordinal)).Order())
            data.Add(RepoFiles.Relative(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(ResourceFiles))]
    public void Every_english_resource_has_a_complete_chinese_sibling(string relative)
    {
        var english = Keys(Path.Combine(RepoFiles.PortalSource, relative));
        var chinesePath = Path.Combine(RepoFiles.PortalSource, relative[..^".resx".Length] + ".zh-CN.resx");
        Assert.True(File.Exists(chinesePath), $"{relative} has no .zh-CN.resx");
        var chinese = Keys(chinesePath);
        Assert.Empty(english.Keys.Except(chinese.Keys).Select(k => "missing in zh-CN: " + k));
        Assert.Empty(chinese.Keys.Except(english.Keys).Select(k => "missing in en: " + k));
        Assert.Empty(chinese.Where(p => string.IsNullOrWhiteSpace(p.Value)).Select(p => "empty in zh-CN: " + p.Key));
        Assert.Empty(english.Where(p => string.IsNullOrWhiteSpace(p.Value)).Select(p => "empty in en: " + p.Key));
        // Placeholders must survive translation: {0} in English means {0} in Chinese.
        Assert.Empty(english.Where(p => Placeholders(p.Value) != Placeholders(chinese[p.Key]))
            .Select(p => $"placeholders differ for '{p.Key}': en '{p.Value}' zh-CN '{chinese[p.Key]}'"));
    }

    [Fact]
    public void There_are_resources_for_the_shell()
    {
        Assert.Contains("Shell/ShellText.resx", RepoFiles.Portal(".resx").Select(RepoFiles.Relative));
    }

    [Fact]
    public void Every_key_a_component_asks_for_exists_in_its_resource()
    {
        var resources = RepoFiles.Portal(".resx")
            .Where(f => !f.EndsWith(".zh-CN.resx", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => Keys(f).Keys.ToHashSet(StringComparer.Ordinal));
        var problems = new List<string>();
        var checkedKeys = 0;
        foreach (var file in RepoFiles.Portal(".razor").Concat(RepoFiles.Portal(".cs")))
        {
            var source = File.ReadAllText(file);
            foreach (Match declaration in LocalizerDeclaration().Matches(source))
            {
                var (type, variable) = (declaration.Groups["type"].Value, declaration.Groups["name"].Value);
                if (!resources.TryGetValue(type, out var keys))
                {
                    problems.Add($"{RepoFiles.Relative(file)}: no {type}.resx for IStringLocalizer<{type}>");
                    continue;
                }
                var lookup = new Regex(@"(?<![\w.])" + Regex.Escape(variable) + @"\[\s*""(?<key>(?:[^""\\]|\\.)*)""\s*[\],]");
                foreach (Match use in lookup.Matches(source))
                {
                    checkedKeys++;
                    var key = Regex.Unescape(use.Groups["key"].Value);
                    if (!keys.Contains(key))
                        problems.Add($"{RepoFiles.Relative(file)}: '{key}' is not in {type}.resx");
                }
            }
        }
        Assert.Empty(problems);
        Assert.True(checkedKeys > 10, $"only {checkedKeys} localized strings found: is the scan still matching?");
    }

    /// <summary>
    /// Literal words between tags or in user-facing attributes of a component are English that a
    /// Chinese user would see.
    /// </summary>
    [Fact]
    public void Components_carry_no_literal_text()
    {
        var problems = new List<string>();
        foreach (var file in RepoFiles.Portal(".razor"))
        {
            var markup = WithoutCode(File.ReadAllText(file));
            foreach (Match text in TextNode().Matches(markup))
            {
                var value = System.Net.WebUtility.HtmlDecode(text.Groups["text"].Value).Trim();
                if (IsLiteralWords(value))
                    problems.Add($"{RepoFiles.Relative(file)}: text '{value}'");
            }
            foreach (Match attribute in TextAttribute().Matches(markup))
            {
                var value = attribute.Groups["value"].Value.Trim();
                if (IsLiteralWords(value))
                    problems.Add($"{RepoFiles.Relative(file)}: {attribute.Groups["name"].Value}=\"{value}\"");
            }
        }
        Assert.Empty(problems);
    }

    private static bool IsLiteralWords(string value) =>
        value.Length > 0 && !Untranslated.Contains(value) && WordLetters().IsMatch(value)
        && value.IndexOfAny(['@', '{', '}', '(', ')', ';', '=']) < 0;

    /// <summary>The markup without razor comments, @code blocks, style and script elements.</summary>
    private static string WithoutCode(string razor)
    {
        razor = RazorComment().Replace(razor, "");
        var code = razor.IndexOf("@code", StringComparison.Ordinal);
        if (code >= 0) razor = razor[..code];
        return StyleOrScript().Replace(razor, "");
    }

    private static Dictionary<string, string> Keys(string resx) =>
        XDocument.Load(resx).Root!.Elements("data")
            .ToDictionary(d => (string)d.Attribute("name")!, d => (string?)d.Element("value") ?? "", StringComparer.Ordinal);

    private static string Placeholders(string text) =>
        string.Join(",", PlaceholderPattern().Matches(text).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal));

    [GeneratedRegex(@"IStringLocalizer<(?<type>\w+)>\s+(?<name>\w+)")]
    private static partial Regex LocalizerDeclaration();

    [GeneratedRegex(@">(?<text>[^<>]+)<")]
    private static partial Regex TextNode();

    [GeneratedRegex(@"\s(?<name>Label|Placeholder|Title|Text|HelperText|ButtonText|aria-label|title|placeholder|alt|Tooltip)=""(?<value>[^""]*)""")]
    private static partial Regex TextAttribute();

    [GeneratedRegex(@"[A-Za-z]{2,}")]
    private static partial Regex WordLetters();

    [GeneratedRegex(@"@\*.*?\*@", RegexOptions.Singleline)]
    private static partial Regex RazorComment();

    [GeneratedRegex(@"<(style|script)\b.*?</\1>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex StyleOrScript();

    [GeneratedRegex(@"\{(\d+)(?:[:,][^}]*)?\}")]
    private static partial Regex PlaceholderPattern();
}
