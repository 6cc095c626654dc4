using System.Globalization;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;
using Radzen;

namespace ModelOps.Portal.Components.Shared;

/// <summary>Formatting and colour choices shared by the pages, so a status looks the same everywhere.</summary>
public static class Ui
{
    public static BadgeStyle StatusStyle(RunStatus status) => status switch
    {
        RunStatus.Queued => BadgeStyle.Secondary,
        RunStatus.Running => BadgeStyle.Info,
        RunStatus.Finished => BadgeStyle.Success,
        RunStatus.Failed => BadgeStyle.Danger,
        RunStatus.Cancelled => BadgeStyle.Warning,
        _ => BadgeStyle.Base,
    };

    public static BadgeStyle StageStyle(string stage) => stage switch
    {
        ModelStages.Production => BadgeStyle.Success,
        ModelStages.Staging => BadgeStyle.Info,
        ModelStages.Archived => BadgeStyle.Light,
        _ => BadgeStyle.Base,
    };

    /// <summary>Times are stored in UTC; the portal shows them in UTC too, labelled, so logs and screens agree.</summary>
    public static string Time(DateTime? utc) =>
        utc is null ? "—" : DateTime.SpecifyKind(utc.Value, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    public static string Duration(DateTime? start, DateTime? end)
    {
        if (start is null) return "—";
        var span = (end ?? DateTime.UtcNow) - start.Value;
        return Duration(span);
    }

    public static string Duration(TimeSpan span) =>
        span.TotalSeconds < 0 ? "0s"
        : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes:00}m {span.Seconds:00}s"
        : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds:00}s"
        : $"{span.TotalSeconds:0.0}s";

    public static string Ago(DateTime? utc) => utc is null ? "—" : Duration(DateTime.UtcNow - utc.Value) + " ago";

    public static string Percent(double? fraction, int decimals = 1) =>
        fraction is null ? "—" : (fraction.Value * 100).ToString("F" + decimals, CultureInfo.InvariantCulture) + "%";

    public static string Number(double? value, string format = "0.####") =>
        value is null ? "—" : value.Value.ToString(format, CultureInfo.InvariantCulture);

    public static string Bytes(long bytes) => Datasets.DatasetIngest.FormatBytes(bytes);

    public static string ModelNameFrom(string? datasetName) => ModelNames.SuggestFrom(datasetName);
}
