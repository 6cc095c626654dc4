namespace ModelOps.Benchmarks.Tracking;

public static class Stats
{
    /// <summary>Nearest-rank percentile (p in 0..100); NaN for no samples.</summary>
    public static double Percentile(IEnumerable<double> samples, double p)
    {
        var sorted = samples.Where(double.IsFinite).OrderBy(x => x).ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IEnumerable<double> samples) => Percentile(samples, 50);
}

/// <summary>Per-request latencies of one endpoint: wall time at the client and, where sent, the server's own figure.</summary>
public sealed record LatencyResult(string? NotMeasured, IReadOnlyList<double> WallMs, IReadOnlyList<double> ServerMs, string Notes)
{
    public static LatencyResult Skipped(string why) => new(why, [], [], "");
    public double P50 => Stats.Percentile(WallMs, 50);
    public double P95 => Stats.Percentile(WallMs, 95);
    public double ServerP50 => Stats.Percentile(ServerMs, 50);
    public double ServerP95 => Stats.Percentile(ServerMs, 95);
}
