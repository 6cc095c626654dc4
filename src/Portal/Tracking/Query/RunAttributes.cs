using System.Globalization;

namespace ModelOps.Portal.Tracking.Query;

internal enum AttributeType
{
    Integer,
    /// <summary>A number that need not be whole (compute seconds, cost).</summary>
    Real,
    Text,
    Time,
    Status,
    Kind,
}

/// <summary>An attribute the filter language can name, and the <c>runs</c> column behind it.</summary>
internal sealed record RunAttribute(string Name, string Column, AttributeType Type, bool Nullable)
{
    public static readonly IReadOnlyList<RunAttribute> All =
    [
        new("id", "r.Id", AttributeType.Integer, false),
        new("name", "r.Name", AttributeType.Text, false),
        new("status", "r.Status", AttributeType.Status, false),
        new("source", "r.Source", AttributeType.Text, false),
        new("kind", "r.Kind", AttributeType.Kind, false),
        new("experiment_id", "r.ExperimentId", AttributeType.Integer, false),
        new("parent_run_id", "r.ParentRunId", AttributeType.Integer, true),
        new("created_by", "r.CreatedBy", AttributeType.Text, false),
        new("created_at", "r.CreatedAt", AttributeType.Time, false),
        new("started_at", "r.StartedAt", AttributeType.Time, true),
        new("ended_at", "r.EndedAt", AttributeType.Time, true),
        // Compute (docs/cost.md): null for runs nobody measured. The cost's column depends on the prices: see RunSearchSql.
        new("gpu_seconds", "r.GpuSeconds", AttributeType.Real, true),
        new("cpu_core_seconds", "r.CpuCoreSeconds", AttributeType.Real, true),
        new(Cost, "", AttributeType.Real, true),
    ];

    /// <summary>The compute cost at the configured prices, an expression of the two seconds columns.</summary>
    public const string Cost = "cost";

    public static string Names => string.Join(", ", All.Select(a => a.Name));

    public static RunAttribute? Find(string name) =>
        All.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    public static RunAttribute Get(string name) => Find(name) ?? throw new InvalidOperationException($"No attribute {name}.");

    /// <summary>Runs.Status codes, in order (RunStatus).</summary>
    public static readonly IReadOnlyList<string> Statuses = ["Queued", "Running", "Finished", "Failed", "Cancelled"];

    /// <summary>Runs.Kind codes, in order.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["training", "tracked"];

    /// <summary>The form EF Core stores a DateTime in on SQLite; its text order is time order.</summary>
    public const string StoredTimeFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    private static readonly string[] TimeFormats = BuildTimeFormats();

    private static string[] BuildTimeFormats()
    {
        var formats = new List<string> { "yyyy-MM-dd", "yyyy-MM-ddK" };
        foreach (var separator in new[] { "'T'", " " })
        {
            foreach (var time in new[] { "HH:mm", "HH:mm:ss", "HH:mm:ss.FFFFFFF" })
            {
                formats.Add($"yyyy-MM-dd{separator}{time}");
                formats.Add($"yyyy-MM-dd{separator}{time}K");
            }
        }
        return [.. formats];
    }

    /// <summary>
    /// An ISO-8601 date or date-time (a <c>T</c> or a space between; <c>Z</c>, an offset or none, which means
    /// UTC) in EF Core's stored text form, in UTC; null when it is not one.
    /// </summary>
    public static string? NormaliseTime(string text)
    {
        if (!DateTimeOffset.TryParseExact(text.Trim(), TimeFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var value))
        {
            return null;
        }
        return value.UtcDateTime.ToString(StoredTimeFormat, CultureInfo.InvariantCulture);
    }
}
