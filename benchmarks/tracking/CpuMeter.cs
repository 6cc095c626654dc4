using System.Diagnostics;
using System.Globalization;

namespace ModelOps.Benchmarks.Tracking;

/// <summary>CPU seconds spent so far by the bench, the portal and the whole machine (from /proc/stat).</summary>
public readonly record struct CpuSample(DateTime At, double Bench, double Portal, double MachineBusy)
{
    public CpuShare Since(CpuSample start)
    {
        var wall = (At - start.At).TotalSeconds;
        return new CpuShare(wall, (Bench - start.Bench) / wall, (Portal - start.Portal) / wall, (MachineBusy - start.MachineBusy) / wall);
    }
}

/// <summary>Cores in use over an interval. "Others" is everything else on the (shared) machine.</summary>
public readonly record struct CpuShare(double WallSeconds, double BenchCores, double PortalCores, double MachineCores)
{
    public double OtherCores => Math.Max(0, MachineCores - BenchCores - PortalCores);
    public override string ToString() =>
        $"portal {PortalCores:0.00} cores, bench client {BenchCores:0.00}, others on the machine {OtherCores:0.00} (of {Environment.ProcessorCount})";
}

public sealed class CpuMeter(int portalPid)
{
    private static readonly double TicksPerSecond = 100.0; // USER_HZ on Linux

    public CpuSample Sample()
    {
        double portal;
        try
        {
            using var p = Process.GetProcessById(portalPid);
            portal = p.TotalProcessorTime.TotalSeconds;
        }
        catch (ArgumentException)
        {
            portal = double.NaN;
        }
        using var self = Process.GetCurrentProcess();
        return new CpuSample(DateTime.UtcNow, self.TotalProcessorTime.TotalSeconds, portal, MachineBusySeconds());
    }

    private static double MachineBusySeconds()
    {
        // cpu  user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
        var first = File.ReadLines("/proc/stat").First();
        var fields = first.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        long busy = 0;
        for (var i = 0; i < Math.Min(fields.Length, 8); i++)
            if (i is not 3 and not 4) busy += fields[i];
        return busy / TicksPerSecond;
    }

    /// <summary>The portal's pid: the process whose command line names this portal's URL (PortalProcess keeps its Process private).</summary>
    public static int FindPortal(string baseUrl)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (args[0].EndsWith("ModelOps.Portal", StringComparison.Ordinal) && args.Contains($"--urls={baseUrl}")) return pid;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        throw new InvalidOperationException($"No portal process serving {baseUrl} was found in /proc.");
    }
}
