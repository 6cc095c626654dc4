using System.Diagnostics;
using ModelOps.Benchmarks.Tracking;
using ModelOps.TestSupport;

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var clock = Stopwatch.StartNew();
var data = Directory.CreateTempSubdirectory("modelops-bench-").FullName;
Console.WriteLine($"[bench] {options.Runs:N0} runs x {options.Params} params x {options.Metrics} metrics x {options.Steps} steps"
    + $" + {options.LongRuns} runs x {options.LongSteps:N0} steps x {options.LongMetrics} metric(s); batch {options.Batch}, {options.Concurrency} in flight");
Console.WriteLine($"[bench] machine: {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Trim()}; data in {data}");
Console.WriteLine($"[bench] portal: {PortalProcess.PortalExecutable}");

var report = new Report();
var portal = await PortalProcess.StartAsync(data, null, "--ModelOps:SeedDemoData=false", "--ModelOps:PauseDispatch=true");
try
{
    var cpu = new CpuMeter(CpuMeter.FindPortal(portal.BaseUrl));
    using var api = new PortalApi(portal.BaseUrl, options.Concurrency + 2);
    var workload = new Workload(options);

    // 1. Ingest.
    var ingest = await new IngestPhase(options, api, workload, cpu).RunAsync();
    var totalRuns = ingest.RunIds.Count + ingest.LongRunIds.Count;
    report.Info("runs created (params in the create body)", $"{totalRuns:N0} in {ingest.CreateSeconds:0.0} s = {totalRuns / ingest.CreateSeconds:N0} runs/s"
        + (totalRuns < options.Runs + options.LongRuns ? $" (stopped at the {options.CreateLimitSeconds}s limit; {options.Runs + options.LongRuns:N0} planned)" : ""));
    var ingestWhat = $"ingest, sustained: {ingest.Points:N0} points / {ingest.IngestSeconds:0.0} s wall"
        + (ingest.StoppedEarly ? $" (stopped at the {options.IngestLimitSeconds}s limit: {ingest.Points:N0} of {ingest.PlannedPoints:N0})" : "");
    report.AtLeast(ingestWhat, ingest.PointsPerSecond, 200_000, "points/s");
    var full = ingest.Windows.Where(w => w.Seconds >= options.WindowSeconds * 0.9).ToList();
    if (full.Count > 0)
    {
        report.AtLeast($"ingest, median of {full.Count} {options.WindowSeconds}-s windows", Stats.Median(full.Select(w => w.PointsPerSecond)), 200_000, "points/s");
        var third = Math.Max(1, full.Count / 3);
        report.Info("ingest, first third vs last third of windows (decay as the DB grows)",
            $"{Stats.Median(full.Take(third).Select(w => w.PointsPerSecond)):N0} → {Stats.Median(full.TakeLast(third).Select(w => w.PointsPerSecond)):N0} points/s (medians)");
    }
    report.Info("log-batch latency under load (1,000 points)",
        $"p50 {Stats.Percentile(ingest.BatchLatenciesMs, 50):0} ms, p95 {Stats.Percentile(ingest.BatchLatenciesMs, 95):0} ms with {options.Concurrency} in flight");
    report.Info("CPU during ingest", ingest.IngestCpu.ToString());

    // 4. Size on disk, right after the load (before any checkpoint the queries might trigger).
    var db = new FileInfo(Path.Combine(data, "modelops.db"));
    var wal = new FileInfo(Path.Combine(data, "modelops.db-wal"));
    var bytes = db.Length + (wal.Exists ? wal.Length : 0);
    report.Info("database on disk after the load (.db + -wal)",
        $"{bytes / 1048576.0:N0} MiB ({db.Length / 1048576.0:N0} + {(wal.Exists ? wal.Length : 0) / 1048576.0:N0}) = {(double)bytes / ingest.Points:0.0} bytes/point (incl. runs, params, latest values)");

    // 2 and 3. Queries, one at a time.
    var queries = new QueryPhases(options, api);
    var search = await queries.SearchAsync(ingest.ExperimentId);
    if (search.NotMeasured is { } whySearch) report.NotMeasured("search p95 (client wall, loopback)", whySearch, "<= 100 ms");
    else
    {
        report.Info($"search p50 (client wall, {search.WallMs.Count} requests)", $"{search.P50:0.0} ms");
        report.AtMost("search p95 (client wall, loopback)", search.P95, 100, "ms");
        report.Info("search Server-Timing p50 / p95", search.ServerMs.Count > 0 ? $"{search.ServerP50:0.0} / {search.ServerP95:0.0} ms" : "not sent by the server");
    }
    var history = await queries.HistoryAsync(ingest.LongRunIds);
    if (history.NotMeasured is { } whyHistory) report.NotMeasured("history p95", whyHistory, "<= 50 ms");
    else
    {
        report.Info($"history maxPoints=1000 of {options.LongSteps:N0} p50 ({history.WallMs.Count} requests)", $"{history.P50:0.0} ms");
        report.AtMost($"history maxPoints=1000 of {options.LongSteps:N0} p95 (client wall)", history.P95, 50, "ms");
        if (history.ServerMs.Count > 0) report.Info("history Server-Timing p50 / p95", $"{history.ServerP50:0.0} / {history.ServerP95:0.0} ms");
    }

    // 5. Browser.
    if (options.Browser)
    {
        var targets = new[] { 500.0, 1500.0 };   // the UI port's targets (issue 9): first rows, every compare chart drawn
        var pages = await new BrowserPhase(options, portal.BaseUrl).RunAsync(ingest.ExperimentId, ingest.RunIds);
        for (var i = 0; i < pages.Count; i++)
        {
            if (pages[i].NotMeasured is { } why) report.NotMeasured($"{pages[i].Page} (median of {options.BrowserReps})", why, $"<= {targets[i]:N0} ms");
            else report.AtMost($"{pages[i].Page} (median of {pages[i].Ms.Count})", pages[i].Median, targets[i], "ms");
        }
        // The run page: a logged point reaching an open page, and a page of 10 x 100,000-step curves.
        (await new RunPagePhase(options, portal.BaseUrl, api).RunAsync()).AddTo(report);
    }

    // Where the ingest time goes.
    if (options.Diagnostics)
    {
        var found = await new Diagnostics(options, api, workload, cpu).RunAsync(ingest.RunIds[0], data);
        var inPortal = ingest.IngestCpu.PortalCores * ingest.IngestCpu.WallSeconds / Math.Max(1, ingest.Points) * 1e6;
        report.Info("diagnostic: portal CPU per ingested point (full path)", $"{inPortal:0.00} CPU-µs/point");
        foreach (var d in found) report.Info($"diagnostic: {d.Name}", $"{d.PointsPerSecond:N0} points/s, {d.CpuMicrosPerPoint:0.00} CPU-µs/point");
    }

    Console.WriteLine();
    Console.WriteLine($"## Tracking benchmark ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores shared with other work; one run, so read latencies as noisy)");
    Console.WriteLine();
    Console.Write(report.ToMarkdown());
    Console.WriteLine();
    Console.WriteLine($"[bench] done in {clock.Elapsed.TotalMinutes:0.0} min");
    return 0;
}
catch (BenchException e)
{
    Console.Error.WriteLine($"[bench] FAILED: {e.Message}");
    Console.Error.WriteLine("--- portal log (tail) ---");
    var log = portal.Log;
    Console.Error.WriteLine(log.Length > 4000 ? log[^4000..] : log);
    return 1;
}
finally
{
    await portal.DisposeAsync();
    if (options.KeepData) Console.WriteLine($"[bench] data kept in {data}");
    else
    {
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
