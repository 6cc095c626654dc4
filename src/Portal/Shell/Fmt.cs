using System.Globalization;
using Microsoft.Extensions.Localization;

namespace ModelOps.Portal.Shell;

/// <summary>
/// Numbers, dates and durations for the current UI culture (ICU). Pages format through these so
/// "1,234.5" / "2026/12/1 12:30" / "3 分 5 秒" come out right in each language.
/// </summary>
public static class Fmt
{
    private static CultureInfo Culture => CultureInfo.CurrentCulture;

    public static string Int(long value) => value.ToString("N0", Culture);

    /// <summary>A metric value: up to 4 decimals, group separators, no trailing zeros.</summary>
    public static string Metric(double? value) => value is null ? "—" : Metric(value.Value);

    public static string Metric(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsInfinity(value) ? (value > 0 ? "∞" : "-∞") : value.ToString("#,0.####", Culture);

    public static string Percent(double? fraction, int decimals = 1) =>
        fraction is null ? "—" : fraction.Value.ToString("P" + decimals.ToString(CultureInfo.InvariantCulture), Culture);

    /// <summary>
    /// Times are stored in UTC and shown in UTC, labelled, so logs and screens agree; the date and
    /// time pattern is the culture's ("12/1/2026 1:05:09 PM UTC", "2026/12/1 13:05:09 UTC").
    /// </summary>
    public static string Time(DateTime? utc) =>
        utc is null ? "—" : DateTime.SpecifyKind(utc.Value, DateTimeKind.Utc).ToString("G", Culture) + " UTC";

    public static string Time(DateTimeOffset? value) => value is null ? "—" : Time(value.Value.UtcDateTime);

    /// <summary>"3 min 5 s ago" / "3 分 5 秒前".</summary>
    public static string Ago(DateTime? utc, IStringLocalizer<ShellText> text) =>
        utc is null ? "—" : text["{0} ago", Duration(DateTime.UtcNow - utc.Value, text)];

    /// <summary>From start to end (or now, while it runs).</summary>
    public static string Duration(DateTime? start, DateTime? end, IStringLocalizer<ShellText> text) =>
        start is null ? "—" : Duration((end ?? DateTime.UtcNow) - start.Value, text);

    public static string Number(double? value, string format = "#,0.####") => value is null ? "—" : value.Value.ToString(format, Culture);

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => bytes.ToString("N0", Culture) + " B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("N1", Culture) + " KB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("N1", Culture) + " MB",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("N2", Culture) + " GB",
    };

    /// <summary>"850 ms", "12 s", "3 min 5 s", "2 h 10 min" in the culture's words.</summary>
    public static string Duration(TimeSpan span, IStringLocalizer<ShellText> text)
    {
        if (span < TimeSpan.Zero) span = TimeSpan.Zero;
        if (span.TotalSeconds < 1) return text["{0} ms", ((int)span.TotalMilliseconds).ToString(Culture)];
        if (span.TotalMinutes < 1) return text["{0} s", span.TotalSeconds.ToString("0.#", Culture)];
        if (span.TotalHours < 1) return text["{0} min {1} s", (int)span.TotalMinutes, span.Seconds];
        if (span.TotalDays < 1) return text["{0} h {1} min", (int)span.TotalHours, span.Minutes];
        return text["{0} d {1} h", (int)span.TotalDays, span.Hours];
    }
}
