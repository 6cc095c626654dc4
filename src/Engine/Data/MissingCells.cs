namespace ModelOps.Engine.Data;

/// <summary>
/// Which CSV cells count as missing, in one place for the portal's upload check and the engine's
/// reader: an empty (or blank) cell, or exactly one of <see cref="Tokens"/> after trimming. The
/// tokens are the ones spreadsheets, R, pandas and the UCI files write; they are matched as listed
/// (case-sensitive), so a category such as "Na" or "none" stays a value.
/// </summary>
public static class MissingCells
{
    /// <summary>Besides the empty cell.</summary>
    public static IReadOnlyList<string> Tokens { get; } = ["NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "?"];

    private static readonly HashSet<string> Set = new(Tokens, StringComparer.Ordinal);

    public static bool IsMissing(string? cell)
    {
        if (cell is null) return true;
        var trimmed = cell.AsSpan().Trim();
        return trimmed.Length == 0 || (trimmed.Length <= 4 && Set.Contains(trimmed.ToString()));
    }

    /// <summary>"empty, NA, N/A, ..." for messages and docs.</summary>
    public static string Describe() => "an empty cell or " + string.Join(", ", Tokens);
}
