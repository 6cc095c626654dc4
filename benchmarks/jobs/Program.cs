using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ModelOps.TestSupport;

// Pickup latency: from "the run is queued" (its row's createdAt, written just before its job is enqueued) to "its worker process
// started" (the first thing the worker executable does is write the time), one run at a time on an
// idle portal, so each one measures the queue's pickup and not the wait for a free slot. The worker
// is a stand-in script that records the time and exits (the run then fails, which costs nothing):
// the training itself is the engine bench's business. The same portal binary is measured with this
// portal's poll interval and with Hangfire's default (15 s), the configuration the trial measured.
var runs = Arg("--runs", 50);
var defaultRuns = Arg("--default-runs", 8);
var pollMs = Arg("--poll-ms", 100);
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("The portal and its workers run on Linux.");
Console.WriteLine($"[bench] load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");

var rows = new List<(string Config, Stats Pickup, double IdleCores)>();
rows.Add(await MeasureAsync($"Hangfire SQLite, poll {pollMs} ms (the portal's default)", pollMs, runs));
rows.Add(await MeasureAsync("Hangfire SQLite, poll 15 s (Hangfire's default)", 15_000, defaultRuns));

Console.WriteLine($"[bench] load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine();
Console.WriteLine("| configuration | runs | pickup median | p95 | max | portal CPU at idle | target |");
Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
foreach (var (config, s, idle) in rows)
    Console.WriteLine($"| {config} | {s.Count} | {s.Median:0} ms | {s.P95:0} ms | {s.Max:0} ms | {idle * 100:0.0} % of a core | p95 <= 250 ms |");
var ratio = rows[1].Pickup.Median / Math.Max(1, rows[0].Pickup.Median);
Console.WriteLine();
Console.WriteLine($"Median pickup, Hangfire's default polling / the portal's: {ratio:0.0}x faster.");
return 0;

int Arg(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static async Task<(string, Stats, double)> MeasureAsync(string config, int pollMs, int count)
{
    using var data = new TempFolder();
    var stamps = Path.Combine(data.Path, "started");
    Directory.CreateDirectory(stamps);
    var worker = Path.Combine(data.Path, "stand-in-worker.sh");
    // Arguments are "--portal URL --run ID ...": the run id names the file holding its start time.
    await File.WriteAllTextAsync(worker, $"#!/bin/sh\nnow=$(date +%s%N)\nprintf '%s' \"$now\" > '{stamps}'/\"$4\"\n");
    if (OperatingSystem.IsLinux()) File.SetUnixFileMode(worker, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false",
        $"--ModelOps:WorkerExecutable={worker}", $"--ModelOps:QueuePollMilliseconds={pollMs}", "--Logging:LogLevel:Default=Warning");
    var dataset = await portal.UploadCsvAsync("points", TestData.SeparableCsv(200));
    var version = dataset.GetProperty("id").GetInt32();

    // Idle cost of polling: the portal's CPU over 10 s with nothing queued.
    var pid = portal.ProcessId;
    var cpu0 = CpuSeconds(pid);
    var clock = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(10));
    var idle = (CpuSeconds(pid) - cpu0) / clock.Elapsed.TotalSeconds;

    var pickups = new List<double>();
    for (var i = 0; i < count; i++)
    {
        // Queued runs start at a random point of a poll cycle, as real ones do.
        await Task.Delay(Random.Shared.Next(0, pollMs));
        var id = await portal.CreateRunAsync(new
        {
            datasetVersionId = version, template = "mlp", epochs = 1, batchSize = 16, learningRate = 0.01, optimizer = "adam",
            seed = 1, validationFraction = 0.2, testFraction = 0.2,
        });
        var file = Path.Combine(stamps, id.ToString(CultureInfo.InvariantCulture));
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(file) || new FileInfo(file).Length == 0)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Run {id} was not picked up within 60 s.");
            await Task.Delay(5);
        }
        var startedAt = DateTime.UnixEpoch.AddTicks(long.Parse(await File.ReadAllTextAsync(file), CultureInfo.InvariantCulture) / 100);
        // The portal's clock is this machine's: the row's creation time is when the run was queued.
        var created = (await portal.GetRunAsync(id)).GetProperty("createdAt").GetDateTime();
        var queuedAt = created.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(created, DateTimeKind.Utc) : created.ToUniversalTime();
        pickups.Add((startedAt - queuedAt).TotalMilliseconds);
        // Idle again before the next: the stand-in exited, the portal settles the run.
        await portal.WaitForRunAsync(id, r => r.GetProperty("status").GetString() is "Failed" or "Finished", TimeSpan.FromSeconds(30));
        Console.WriteLine($"[bench] {config}: run {i + 1}/{count} picked up in {pickups[^1]:0} ms");
    }
    return (config, Stats.Of(pickups), idle);
}

static double CpuSeconds(int pid)
{
    using var p = Process.GetProcessById(pid);
    return p.TotalProcessorTime.TotalSeconds;
}

internal sealed record Stats(int Count, double Median, double P95, double Max)
{
    public static Stats Of(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new Stats(sorted.Length, At(0.5), At(0.95), sorted[^1]);
    }
}
