namespace ModelOps.Portal.Datasets;

/// <summary>A named dataset; its content lives in immutable <see cref="DatasetVersion"/>s.</summary>
public sealed class Dataset
{
    public int Id { get; set; }
    /// <summary>The owning team (docs/identity.md); team 1 owns what existed before teams.</summary>
    public int TeamId { get; set; } = Identity.Team.DefaultId;
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
    public List<DatasetVersion> Versions { get; set; } = [];
}

public static class DatasetKinds
{
    public const string Csv = "csv";
    public const string Idx = "idx";
    /// <summary>A CSV of (label, free text) rows, for the text templates.</summary>
    public const string Text = "text";
}

/// <summary>
/// One immutable upload. Files live under data/datasets/{DatasetId}/v{Version}/ with fixed names
/// (see <see cref="DatasetFileRoles"/>), never under a name the user typed.
/// </summary>
public sealed class DatasetVersion
{
    public int Id { get; set; }
    public int DatasetId { get; set; }
    public Dataset? Dataset { get; set; }
    public int Version { get; set; }
    public required string Kind { get; set; }
    public string? LabelColumn { get; set; }
    public int Rows { get; set; }
    public long SizeBytes { get; set; }
    /// <summary>SHA-256 over the version's files, in role order.</summary>
    public required string Sha256 { get; set; }
    /// <summary>Serialized <see cref="DatasetProfile"/>.</summary>
    public required string ProfileJson { get; set; }
    /// <summary>Relative to the data folder, e.g. "datasets/3/v1".</summary>
    public required string StoragePath { get; set; }
    public required string OriginalFileName { get; set; }
    public DateTime CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
}

/// <summary>The fixed file names a dataset version may hold.</summary>
public static class DatasetFileRoles
{
    public const string Csv = "data.csv";
    public const string TrainImages = "train-images.idx";
    public const string TrainLabels = "train-labels.idx";
    public const string TestImages = "test-images.idx";
    public const string TestLabels = "test-labels.idx";

    public static readonly string[] All = [Csv, TrainImages, TrainLabels, TestImages, TestLabels];
}

/// <summary>
/// One column of a dataset version. Missing counts the cells that are empty or a missing-value token
/// (NA, N/A, n/a, NaN, nan, null, NULL, ?); MissingShare is Missing / rows (0 to 1, four decimals). Type,
/// Distinct, Min, Max, Mean and TopValues describe the other cells only. PersonalData is the kind of personal
/// data the upload's check found (<see cref="PersonalDataKinds"/>; null: none, or a version profiled before the
/// check). Sensitive is not stored: the API and pages fill it in (<see cref="DatasetPrivacy"/>).
/// </summary>
public sealed record ColumnProfile(
    string Name, string Type, int Missing, int Distinct, double? Min, double? Max, double? Mean, IReadOnlyList<string>? TopValues,
    double MissingShare = 0,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? PersonalData = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] bool? Sensitive = null);

/// <summary>
/// An explicit mark on a dataset's column (by name, for all its versions): sensitive, or not sensitive
/// although the upload's check flagged it. Without a mark a column is sensitive when it was flagged.
/// </summary>
public sealed class DatasetSensitiveColumn
{
    public int Id { get; set; }
    public int DatasetId { get; set; }
    public required string Column { get; set; }
    public bool Sensitive { get; set; }
    public required string MarkedBy { get; set; }
    public DateTime MarkedAt { get; set; }
}

public sealed record DatasetProfile(
    string Kind,
    int Rows,
    IReadOnlyList<ColumnProfile> Columns,
    string? LabelColumn,
    IReadOnlyDictionary<string, int> ClassCounts,
    IReadOnlyList<IReadOnlyList<string>> PreviewRows,
    IReadOnlyList<string>? ClassNames,
    int? TestRows,
    int[]? ImageShape,
    string? TextColumn = null,
    /// <summary>CSV: how line 1 was read (<see cref="CsvHeaderMode"/> name); null for versions made before the option.</summary>
    string? HeaderMode = null,
    /// <summary>CSV read with <see cref="CsvHeaderMode.SkipFirstRow"/>: the skipped line (cut to 200 characters).</summary>
    string? SkippedFirstLine = null);
