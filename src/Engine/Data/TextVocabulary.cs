using System.Text;

namespace ModelOps.Engine.Data;

/// <summary>
/// Word-level tokens and their ids. Tokens are lower-cased runs of letters and digits (an apostrophe
/// inside a word is kept: "don't"). Id 0 is padding and id 1 every token outside the vocabulary; the
/// vocabulary is built on the training split only, most frequent first, ties in ordinal order.
/// </summary>
public sealed class TextVocabulary
{
    public const string Padding = "<pad>";
    public const string Unknown = "<unk>";
    private readonly Dictionary<string, int> ids;

    public TextVocabulary(IReadOnlyList<string> tokens)
    {
        if (tokens.Count < 2 || tokens[0] != Padding || tokens[1] != Unknown)
            throw new ArgumentException($"a vocabulary starts with {Padding} and {Unknown}", nameof(tokens));
        Tokens = tokens;
        ids = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) ids.TryAdd(tokens[i], i);
    }

    public IReadOnlyList<string> Tokens { get; }

    public int Count => Tokens.Count;

    public static TextVocabulary Build(IEnumerable<string> documents, int maxSize)
    {
        if (maxSize < 3) throw new ArgumentOutOfRangeException(nameof(maxSize), "a vocabulary needs room for padding, unknown and one token");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var document in documents)
            foreach (var token in Tokenize(document))
                counts[token] = counts.GetValueOrDefault(token) + 1;
        var kept = counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(maxSize - 2).Select(p => p.Key);
        return new TextVocabulary([Padding, Unknown, .. kept]);
    }

    /// <summary>Writes the first <c>ids.Length</c> token ids of <paramref name="document"/>, padding the rest with 0.</summary>
    public int Encode(string document, Span<long> target)
    {
        target.Clear();
        int n = 0;
        foreach (var token in Tokenize(document))
        {
            if (n == target.Length) break;
            target[n++] = ids.TryGetValue(token, out int id) ? id : 1;
        }
        return n;
    }

    public static IEnumerable<string> Tokenize(string text)
    {
        var token = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool inner = c == '\'' && token.Length > 0 && i + 1 < text.Length && char.IsLetterOrDigit(text[i + 1]);
            if (char.IsLetterOrDigit(c) || inner)
            {
                token.Append(char.ToLowerInvariant(c));
            }
            else if (token.Length > 0)
            {
                yield return token.ToString();
                token.Clear();
            }
        }
        if (token.Length > 0) yield return token.ToString();
    }
}
