namespace ModelOps.Portal.Tracking;

/// <summary>
/// A params, metrics or tags column of a runs table. <see cref="Id"/> (<c>metrics.val_accuracy</c>) is how
/// the column is written in a link and a saved view; <see cref="Operand"/> is the same field in the filter
/// language, with the key backtick-quoted when it has characters a bare key cannot (<c>metrics.`val/loss`</c>).
/// </summary>
public sealed record RunColumn(string Prefix, string Key)
{
    public const string Metrics = "metrics";
    public const string Params = "params";
    public const string Tags = "tags";

    public string Id => $"{Prefix}.{Key}";

    public string Operand => Key.Length > 0 && Key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
        ? Id
        : $"{Prefix}.`{Key.Replace("`", "``", StringComparison.Ordinal)}`";

    public bool IsMetric => Prefix == Metrics;

    /// <summary>Reads <c>metrics.key</c>, <c>params.key</c> or <c>tags.key</c> (the key may contain dots); null otherwise.</summary>
    public static RunColumn? Parse(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == text.Length - 1) return null;
        var prefix = text[..dot];
        return prefix is Metrics or Params or Tags ? new RunColumn(prefix, text[(dot + 1)..]) : null;
    }

    /// <summary>A comma-separated list as kept in the query string (keys cannot contain commas); unknown entries are dropped.</summary>
    public static List<RunColumn> ParseList(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Parse).OfType<RunColumn>().Distinct().ToList();

    public static string Join(IEnumerable<RunColumn> columns) => string.Join(',', columns.Select(c => c.Id));
}
