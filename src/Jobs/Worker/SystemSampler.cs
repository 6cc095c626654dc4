using System.Diagnostics;
using System.Globalization;
using ModelOps.Jobs.Protocol;

namespace ModelOps.Jobs.Worker;

/// <summary>One reading of the worker's own resources; the GPU figures are null when none could be read.</summary>
public sealed record SystemSample(double CpuPercent, double MemoryMiB, double? GpuPercent, double? GpuMemoryMiB);

/// <summary>
/// Samples the worker process while it trains, on a background thread (docs/cost.md): CPU % (process CPU time
/// over wall time, in percent of one core, so two busy threads read about 200), resident memory in MiB, and on
/// a CUDA device the GPU's utilisation and memory from <c>nvidia-smi</c> when that executable exists (otherwise
/// no GPU figures: none are made up). Each sample becomes the metrics <c>system/cpu_percent</c>,
/// <c>system/memory_mib</c>, <c>system/gpu_percent</c> and <c>system/gpu_memory_mib</c> handed to a sink (the
/// reporting observer, which sends them with the next batch). It also keeps the attempt's compute use
/// (<see cref="Usage"/>). Nothing that goes wrong while sampling reaches the training: errors are written to
/// stderr once and the sample is skipped.
/// </summary>
public sealed class SystemSampler : IDisposable
{
    public const string CpuPercentKey = "system/cpu_percent";
    public const string MemoryKey = "system/memory_mib";
    public const string GpuPercentKey = "system/gpu_percent";
    public const string GpuMemoryKey = "system/gpu_memory_mib";
    /// <summary>The prefix of every system metric; pages that list a run's model metrics leave these out.</summary>
    public const string KeyPrefix = "system/";

    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan NvidiaSmiTimeout = TimeSpan.FromSeconds(5);
    private const int MaxGpuFailures = 3;

    private readonly object _gate = new();
    private readonly Action<IReadOnlyList<MetricPoint>>? _sink;
    private readonly string? _nvidiaSmi;
    private readonly string? _gpuId;
    private readonly long _stepOffset;
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly Stopwatch _gpuWall = new();
    private readonly bool _onGpu;
    private readonly ManualResetEvent _stop = new(false);
    private Thread? _thread;
    private TimeSpan _lastCpu;
    private TimeSpan _lastWall;
    private long _lastStep = -1;
    private int _gpuFailures;
    private bool _warned;

    /// <param name="device">The device the attempt trains on (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>).</param>
    /// <param name="stepOffsetSeconds">Seconds between the run's first start and this attempt's: steps continue across attempts.</param>
    /// <param name="sink">Where each sample's points go; null to only read (tests, <see cref="Sample"/>).</param>
    /// <param name="nvidiaSmi">The nvidia-smi to ask; null: looked up on PATH. Only used on a CUDA device.</param>
    public SystemSampler(string device, long stepOffsetSeconds, Action<IReadOnlyList<MetricPoint>>? sink, string? nvidiaSmi = null)
    {
        _sink = sink;
        _stepOffset = Math.Max(0, stepOffsetSeconds);
        _onGpu = device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase);
        if (_onGpu)
        {
            _nvidiaSmi = nvidiaSmi ?? FindOnPath("nvidia-smi");
            _gpuId = GpuId(device, Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES"));
        }
        _lastCpu = ProcessCpu();
        _lastWall = _wall.Elapsed;
    }

    /// <summary>Whether GPU figures are being read (a CUDA device and an nvidia-smi that answers).</summary>
    public bool ReadsGpu => _nvidiaSmi is not null && _gpuFailures < MaxGpuFailures;

    /// <summary>
    /// Starts sampling on a thread of its own, the first sample one interval later. Not a thread-pool timer: the
    /// training holds a pool thread for its whole length and nvidia-smi blocks its caller, so on a small machine a
    /// pool timer would wait for threads (and could hold up the heartbeats that need them).
    /// </summary>
    public void Start(TimeSpan? interval = null)
    {
        var every = interval ?? DefaultInterval;
        lock (_gate)
        {
            if (_thread is not null) return;
            _thread = new Thread(() =>
            {
                while (!_stop.WaitOne(every)) Tick();
            }) { IsBackground = true, Name = "system sampler", Priority = ThreadPriority.BelowNormal };
            _thread.Start();
        }
    }

    /// <summary>Training on the device begins or ends: GPU-seconds count only the time in between.</summary>
    public void TrainingStarted()
    {
        lock (_gate) if (_onGpu) _gpuWall.Start();
    }

    public void TrainingEnded()
    {
        lock (_gate) _gpuWall.Stop();
    }

    /// <summary>The attempt's use so far: GPU wall seconds of training on CUDA, and the process's CPU core-seconds.</summary>
    public ComputeUsage Usage()
    {
        double gpu;
        lock (_gate) gpu = _gpuWall.Elapsed.TotalSeconds;
        return new ComputeUsage(Math.Round(gpu, 3), Math.Round(ProcessCpu().TotalSeconds, 3));
    }

    /// <summary>Stops sampling and takes one last sample, so even a short attempt leaves a point.</summary>
    public void Stop()
    {
        Thread? thread;
        lock (_gate)
        {
            thread = _thread;
            _thread = null;
        }
        if (thread is null) return;
        _stop.Set();
        // Waits for a sample in progress, so the last sample is the last one.
        thread.Join(NvidiaSmiTimeout * 2);
        Tick();
    }

    private void Tick()
    {
        try
        {
            var (step, sample) = SampleWithStep();
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var points = new List<MetricPoint>(4)
            {
                new(CpuPercentKey, sample.CpuPercent, step, now),
                new(MemoryKey, sample.MemoryMiB, step, now),
            };
            if (sample.GpuPercent is { } gpu) points.Add(new(GpuPercentKey, gpu, step, now));
            if (sample.GpuMemoryMiB is { } gpuMemory) points.Add(new(GpuMemoryKey, gpuMemory, step, now));
            _sink?.Invoke(points);
        }
        catch (Exception ex)
        {
            Warn($"warning: a system metrics sample failed: {ex.Message}");
        }
    }

    /// <summary>One reading now: CPU % since the previous reading (or since the sampler was made).</summary>
    public SystemSample Sample() => SampleWithStep().Sample;

    private (long Step, SystemSample Sample) SampleWithStep()
    {
        double cpuPercent;
        long step;
        lock (_gate)
        {
            var cpu = ProcessCpu();
            var wall = _wall.Elapsed;
            var elapsed = (wall - _lastWall).TotalSeconds;
            cpuPercent = elapsed > 0 ? Math.Max(0, (cpu - _lastCpu).TotalSeconds / elapsed * 100) : 0;
            _lastCpu = cpu;
            _lastWall = wall;
            // Whole seconds since the run first started; never the same step twice (the page keeps one point per step).
            step = Math.Max(_lastStep + 1, _stepOffset + (long)Math.Round(wall.TotalSeconds));
            _lastStep = step;
        }
        var (gpuPercent, gpuMemory) = ReadGpu();
        return (step, new SystemSample(Math.Round(cpuPercent, 1), Math.Round(ResidentMiB(), 1), gpuPercent, gpuMemory));
    }

    private (double?, double?) ReadGpu()
    {
        if (!ReadsGpu) return (null, null);
        try
        {
            var info = new ProcessStartInfo(_nvidiaSmi!)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits", "-i", _gpuId! })
                info.ArgumentList.Add(arg);
            using var process = Process.Start(info) ?? throw new InvalidOperationException("nvidia-smi did not start");
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(NvidiaSmiTimeout))
            {
                try { process.Kill(); } catch (InvalidOperationException) { }
                throw new TimeoutException($"nvidia-smi did not answer within {NvidiaSmiTimeout.TotalSeconds:0} s");
            }
            if (process.ExitCode != 0) throw new InvalidOperationException($"nvidia-smi exited with code {process.ExitCode}");
            var reading = ParseNvidiaSmi(output.GetAwaiter().GetResult());
            if (reading is null) throw new FormatException("nvidia-smi's answer was not 'utilisation, memory'");
            _gpuFailures = 0;
            return reading.Value;
        }
        catch (Exception ex)
        {
            // A few failures in a row (no driver, no such GPU) and it is not asked again this attempt.
            if (++_gpuFailures >= MaxGpuFailures) Warn($"warning: no GPU figures: {ex.Message}");
            return (null, null);
        }
    }

    /// <summary>The first line of <c>nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits</c>.</summary>
    public static (double Percent, double MemoryMiB)? ParseNvidiaSmi(string output)
    {
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var parts = line?.Split(',', StringSplitOptions.TrimEntries);
        if (parts is not { Length: 2 }) return null;
        return double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var memory)
            ? (percent, memory)
            : null;
    }

    /// <summary>
    /// nvidia-smi's id for a torch device: torch counts the devices CUDA_VISIBLE_DEVICES leaves visible, nvidia-smi
    /// all of them, so <c>cuda:1</c> under <c>CUDA_VISIBLE_DEVICES=2,3</c> is GPU 3 (the entry may be a UUID, which -i takes too).
    /// </summary>
    public static string GpuId(string device, string? visibleDevices)
    {
        var colon = device.IndexOf(':', StringComparison.Ordinal);
        var index = colon >= 0 && int.TryParse(device.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : 0;
        var visible = (visibleDevices ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return index < visible.Length ? visible[index] : index.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The process's CPU time, all threads, user and system (Linux: /proc/self/stat).</summary>
    private static TimeSpan ProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>Resident memory: VmRSS of /proc/self/status on Linux, the working set elsewhere.</summary>
    public static double ResidentMiB()
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kb = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return double.Parse(kb, CultureInfo.InvariantCulture) / 1024;
            }
        }
        return Environment.WorkingSet / (1024.0 * 1024);
    }

    private static string? FindOnPath(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private void Warn(string message)
    {
        if (_warned) return;
        _warned = true;
        Console.Error.WriteLine(message);
    }

    public void Dispose()
    {
        _stop.Set();
        _thread?.Join(NvidiaSmiTimeout * 2);
        _stop.Dispose();
    }
}
