using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelOps.Portal.Tracking.Query;

/// <summary>
/// The keyset cursor: base64url of <c>{"q": query hash, "v": [the last row's sort-tuple values]}</c>.
/// Each value is written with its type (<c>i:</c> integer, <c>r:</c> real in round-trip form, <c>s:</c> text)
/// or null, so it reaches SQLite exactly as it was read. The hash covers the experiments, the filter and
/// the order in canonical form, so a token only fits the query that made it; it is not a secret, and a
/// forged token can do no more than start a page somewhere else, since its values go in as parameters.
/// </summary>
internal static class PageToken
{
    private sealed record Body([property: JsonPropertyName("q")] string Query, [property: JsonPropertyName("v")] string?[] Values);

    public static string QueryHash(IEnumerable<int> experimentIds, FilterExpression? filter, IReadOnlyList<OrderTerm> order)
    {
        var canonical = $"e:{string.Join(",", experimentIds)}\nf:{filter}\no:{string.Join(", ", order)}";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)).AsSpan(0, 12));
    }

    public static string Encode(string queryHash, IReadOnlyList<object?> values)
    {
        var body = new Body(queryHash, values.Select(v => v switch
        {
            null => null,
            long l => "i:" + l.ToString(CultureInfo.InvariantCulture),
            double d => "r:" + d.ToString("R", CultureInfo.InvariantCulture),
            string s => "s:" + s,
            _ => throw new InvalidOperationException($"Unexpected sort value of type {v.GetType().Name}."),
        }).ToArray());
        return Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(body));
    }

    /// <summary>The sort-tuple values of a token made by the same query, with <paramref name="count"/> columns.</summary>
    public static IReadOnlyList<object?> Decode(string token, string queryHash, int count)
    {
        Body? body;
        try
        {
            body = JsonSerializer.Deserialize<Body>(Base64Url.DecodeFromChars(token));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw new InvalidPageTokenException(InvalidPageTokenException.Malformed);
        }
        if (body?.Query is null || body.Values is null) throw new InvalidPageTokenException(InvalidPageTokenException.Malformed);
        if (body.Query != queryHash || body.Values.Length != count) throw new InvalidPageTokenException(InvalidPageTokenException.ForeignQuery);
        return body.Values.Select(Parse).ToList();
    }

    private static object? Parse(string? value)
    {
        if (value is null) return null;
        if (value.StartsWith("s:", StringComparison.Ordinal)) return value[2..];
        if (value.StartsWith("i:", StringComparison.Ordinal) && long.TryParse(value.AsSpan(2), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
        if (value.StartsWith("r:", StringComparison.Ordinal) && double.TryParse(value.AsSpan(2), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        throw new InvalidPageTokenException(InvalidPageTokenException.Malformed);
    }
}
