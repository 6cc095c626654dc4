using System.Globalization;
using System.Text;

namespace ModelOps.Benchmarks.Tracking;

/// <summary>The closing markdown table: measure, value, target, met (and by how much when not).</summary>
public sealed class Report
{
    private readonly List<(string Measure, string Value, string Target, string Met)> _rows = [];

    public void Info(string measure, string value) => _rows.Add((measure, value, "—", "—"));

    public void NotMeasured(string measure, string why, string target) => _rows.Add((measure, why, target, "not measured"));

    /// <summary>A figure that must be at least the target (a rate).</summary>
    public void AtLeast(string measure, double value, double target, string unit)
    {
        var met = value >= target ? "yes" : $"no ({(target - value) / target:P0} short: {Format(target - value)} {unit} below)";
        _rows.Add((measure, $"{Format(value)} {unit}", $">= {Format(target)} {unit}", met));
    }

    /// <summary>A figure that must be at most the target (a latency).</summary>
    public void AtMost(string measure, double value, double target, string unit)
    {
        var met = value <= target ? "yes" : $"no (+{Format(value - target)} {unit}, {value / target:0.0}x the target)";
        _rows.Add((measure, $"{Format(value)} {unit}", $"<= {Format(target)} {unit}", met));
    }

    public string ToMarkdown()
    {
        var s = new StringBuilder("| measure | value | target | met? |\n| --- | --- | --- | --- |\n");
        foreach (var (m, v, t, met) in _rows) s.Append($"| {m} | {v} | {t} | {met} |\n");
        return s.ToString();
    }

    public static string Format(double value) =>
        double.IsNaN(value) ? "n/a"
        : Math.Abs(value) >= 1000 ? value.ToString("N0", CultureInfo.InvariantCulture)
        : Math.Abs(value) >= 10 ? value.ToString("0.0", CultureInfo.InvariantCulture)
        : value.ToString("0.00", CultureInfo.InvariantCulture);
}
