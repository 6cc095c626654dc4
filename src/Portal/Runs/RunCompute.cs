using ModelOps.Jobs.Protocol;

namespace ModelOps.Portal.Runs;

/// <summary>A run's (or a sum of runs') compute: GPU-seconds, CPU core-seconds and their cost at the current prices.</summary>
public sealed record ComputeView(double GpuSeconds, double CpuCoreSeconds, double? Cost, string? Currency)
{
    public double GpuHours => GpuSeconds / 3600;
    public double CpuCoreHours => CpuCoreSeconds / 3600;
}

/// <summary>
/// Compute use and its cost (docs/cost.md). A worker reports its attempt's cumulative use in every heartbeat and in
/// its finish report; the run keeps that attempt's latest figures on top of the earlier attempts' total, so a
/// resumed run adds its new attempt and a repeated report of one attempt replaces, never adds.
/// </summary>
public static class RunCompute
{
    /// <summary>Records attempt <paramref name="attempt"/>'s cumulative use; nothing when the report carries none.</summary>
    public static void Record(Run run, int attempt, ComputeUsage? usage)
    {
        if (usage is null) return;
        var gpu = Clean(usage.GpuSeconds);
        var cpu = Clean(usage.CpuCoreSeconds);
        if (attempt != run.ComputeAttempt)
        {
            // A new attempt: what the run holds now is the earlier attempts' total.
            run.PriorGpuSeconds = run.GpuSeconds ?? 0;
            run.PriorCpuCoreSeconds = run.CpuCoreSeconds ?? 0;
            run.ComputeAttempt = attempt;
        }
        // Cumulative figures only grow; a late, older report of the same attempt does not take use away.
        run.GpuSeconds = Math.Max(run.GpuSeconds ?? 0, run.PriorGpuSeconds + gpu);
        run.CpuCoreSeconds = Math.Max(run.CpuCoreSeconds ?? 0, run.PriorCpuCoreSeconds + cpu);
    }

    /// <summary>A figure a worker sent: finite, not negative, at most a year per attempt.</summary>
    private static double Clean(double seconds) => double.IsFinite(seconds) ? Math.Clamp(seconds, 0, 366 * 86400.0) : 0;

    /// <summary>gpuSeconds/3600 × the GPU price + cpuCoreSeconds/3600 × the CPU price; null when no price is set.</summary>
    public static double? Cost(double gpuSeconds, double cpuCoreSeconds, CostOptions prices) =>
        prices.Priced ? gpuSeconds / 3600 * Math.Max(0, prices.PricePerGpuHour) + cpuCoreSeconds / 3600 * Math.Max(0, prices.PricePerCpuCoreHour) : null;

    /// <summary>A run's compute view; null when nobody measured it (a tracked run, or one from before compute was recorded).</summary>
    public static ComputeView? View(double? gpuSeconds, double? cpuCoreSeconds, CostOptions prices) =>
        gpuSeconds is null && cpuCoreSeconds is null ? null : Sum(gpuSeconds ?? 0, cpuCoreSeconds ?? 0, prices);

    /// <summary>A total (an experiment, a model, a month): always a view, zero when nothing was measured.</summary>
    public static ComputeView Sum(double gpuSeconds, double cpuCoreSeconds, CostOptions prices) =>
        new(gpuSeconds, cpuCoreSeconds, Cost(gpuSeconds, cpuCoreSeconds, prices), prices.Priced ? prices.Currency : null);

    /// <summary>
    /// The cost as an SQL expression over a <c>runs</c> alias, for sorting in the database: the same arithmetic as
    /// <see cref="Cost"/>, with the prices per second written in as numbers (they are doubles, never text).
    /// </summary>
    public static string CostSql(string alias, CostOptions prices) =>
        $"({alias}.GpuSeconds * {Literal(Math.Max(0, prices.PricePerGpuHour) / 3600)} + {alias}.CpuCoreSeconds * {Literal(Math.Max(0, prices.PricePerCpuCoreHour) / 3600)})";

    /// <summary>"1.23 USD" (a small cost keeps up to four decimals); "—" without a cost.</summary>
    public static string CostText(ComputeView? compute) =>
        compute?.Cost is { } cost ? $"{Shell.Fmt.Number(cost, cost < 0.01 && cost > 0 ? "#,0.00##" : "#,0.00")} {compute.Currency}" : "—";

    /// <summary>Hours with up to two decimals ("12.5").</summary>
    public static string HoursText(double seconds) => Shell.Fmt.Number(seconds / 3600, "#,0.##");

    private static string Literal(double value) => value.ToString("0.0###################", System.Globalization.CultureInfo.InvariantCulture);
}
