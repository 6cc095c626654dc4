namespace ModelOps.Portal.Datasets;

/// <summary>What line 1 of an uploaded CSV is.</summary>
public enum CsvHeaderMode
{
    /// <summary>Line 1 names the columns (the default).</summary>
    FirstRowIsHeader,
    /// <summary>Line 1 describes the file (e.g. scikit-learn's iris.csv: "150,4,setosa,versicolor,virginica") and is skipped; line 2 is data.</summary>
    SkipFirstRow,
    /// <summary>There is no header: line 1 is data.</summary>
    FirstRowIsData,
}

/// <summary>
/// How to read a CSV upload. Without a header line (<see cref="CsvHeaderMode.SkipFirstRow"/>,
/// <see cref="CsvHeaderMode.FirstRowIsData"/>) the columns are named <c>column_1</c>, <c>column_2</c>, …
/// (<see cref="GeneratedName"/>) unless <see cref="ColumnNames"/> gives them; with a header line,
/// <see cref="ColumnNames"/> replaces its names. Given names are trimmed and must be non-empty, unique,
/// free of control characters and one per field.
/// </summary>
public sealed record CsvUploadOptions
{
    /// <summary>The label column; default: the last column (for a text dataset: "label", else the last column besides the text).</summary>
    public string? LabelColumn { get; init; }
    /// <summary>Set for a text dataset (kind text): the column holding each example's text.</summary>
    public string? TextColumn { get; init; }
    public CsvHeaderMode Header { get; init; } = CsvHeaderMode.FirstRowIsHeader;
    /// <summary>Optional names for the columns, in file order.</summary>
    public IReadOnlyList<string>? ColumnNames { get; init; }

    public const int MaxColumnNameLength = 200;

    /// <summary>The name a column without one gets: column_1 for the first.</summary>
    public static string GeneratedName(int index) => $"column_{index + 1}";

    /// <summary>Whether the stored data.csv differs from the upload: it then gets a header line with the columns' names.</summary>
    internal bool RewritesHeader => Header != CsvHeaderMode.FirstRowIsHeader || ColumnNames is { Count: > 0 };
}
