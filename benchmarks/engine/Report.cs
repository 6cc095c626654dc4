using System.Globalization;
using System.Text;

namespace ModelOps.Benchmarks.Engine;

public static class Stats
{
    public static double Median(IReadOnlyList<double> samples)
    {
        var s = samples.Where(double.IsFinite).OrderBy(x => x).ToArray();
        if (s.Length == 0) return double.NaN;
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>"median (min-max, n=5)", or just the value for one sample.</summary>
    public static string Summary(IReadOnlyList<double> samples, string unit)
    {
        var median = Median(samples);
        if (samples.Count <= 1) return $"{Report.Format(median)} {unit}";
        return $"{Report.Format(median)} {unit} ({Report.Format(samples.Min())}-{Report.Format(samples.Max())}, n={samples.Count})";
    }
}

/// <summary>
/// The closing markdown table. The ratio is always "times better for the engine": engine/peer for rates,
/// peer/engine for costs (time per op, memory), so above 1 means the engine wins.
/// </summary>
public sealed class Report
{
    private readonly List<string[]> _rows = [];
    private readonly List<string> _notes = [];

    public void Note(string note) => _notes.Add(note);

    /// <summary>A row where higher is better (samples/s).</summary>
    public void Rate(string measure, IReadOnlyList<double> engine, IReadOnlyList<double> peer, string unit, double? targetRatio = null, string? peerLabel = null) =>
        Add(measure, Stats.Summary(engine, unit), Label(peerLabel, Stats.Summary(peer, unit)), Stats.Median(engine) / Stats.Median(peer), targetRatio);

    /// <summary>A row where lower is better (ns per call, MiB).</summary>
    public void Cost(string measure, IReadOnlyList<double> engine, IReadOnlyList<double> peer, string unit, double? targetRatio = null, string? peerLabel = null) =>
        Add(measure, Stats.Summary(engine, unit), Label(peerLabel, Stats.Summary(peer, unit)), Stats.Median(peer) / Stats.Median(engine), targetRatio);

    private static string Label(string? label, string value) => label is null ? value : $"{label}: {value}";

    /// <summary>A row without a ratio (the peer column carries a reference figure).</summary>
    public void Info(string measure, string engine, string peer, string target = "—", string met = "—") =>
        _rows.Add([measure, engine, peer, "—", target, met]);

    public void Failed(string measure, string why) => _rows.Add([measure, $"failed: {why}", "", "—", "—", "not measured"]);

    private void Add(string measure, string engine, string peer, double ratio, double? target)
    {
        string met = target is { } t ? (ratio >= t ? "yes" : $"no ({ratio:0.00}x of {t:0.0#}x)") : "—";
        _rows.Add([measure, engine, peer, double.IsFinite(ratio) ? $"{ratio:0.00}x" : "n/a", target is { } tt ? $">= {tt:0.0#}x" : "—", met]);
    }

    public string ToMarkdown()
    {
        var s = new StringBuilder("| measure | engine (TorchSharp / our Trainer) | PyTorch (or the named peer) | ratio (>1: engine better) | target | met? |\n| --- | --- | --- | --- | --- | --- |\n");
        foreach (var r in _rows) s.Append("| ").Append(string.Join(" | ", r.Select(c => c.Replace("|", "\\|")))).Append(" |\n");
        if (_notes.Count > 0)
        {
            s.Append('\n');
            foreach (var n in _notes) s.Append("- ").Append(n).Append('\n');
        }
        return s.ToString();
    }

    public static string Format(double value) =>
        double.IsNaN(value) ? "n/a"
        : Math.Abs(value) >= 1000 ? value.ToString("N0", CultureInfo.InvariantCulture)
        : Math.Abs(value) >= 10 ? value.ToString("0.0", CultureInfo.InvariantCulture)
        : value.ToString("0.00", CultureInfo.InvariantCulture);
}
