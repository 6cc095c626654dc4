using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Api.Tests;

/// <summary>
/// Many clients logging at once, each from its own process, as a team's training jobs would:
/// SQLite's single writer must queue them, never refuse them, and lose nothing it acknowledged.
/// </summary>
[Collection(PythonClientCollection.Name)]
public sealed class ConcurrencyTests(ITestOutputHelper output)
{
    private const int Loggers = 20;

    /// <summary>MODELOPS_CONCURRENCY_SECONDS shortens the run for a developer; CI uses the full minute.</summary>
    private static int Seconds =>
        int.TryParse(Environment.GetEnvironmentVariable("MODELOPS_CONCURRENCY_SECONDS"), out var s) && s > 0 ? s : 60;

    [Fact]
    public async Task Twenty_runs_logging_at_once_for_a_minute_keep_every_acknowledged_point_and_no_client_sees_a_locked_database()
    {
        using var data = new TempFolder();
        using var logs = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");

        var loggers = Enumerable.Range(0, Loggers).Select(i =>
        {
            var file = Path.Combine(logs.Path, $"logger-{i}.jsonl");
            var process = Python.Start(
                [Python.Script("metric_logger.py"), "--url", portal.BaseUrl, "--experiment", "concurrency", "--name", $"logger-{i}",
                 "--duration", Seconds.ToString(CultureInfo.InvariantCulture), "--seed", i.ToString(CultureInfo.InvariantCulture), "--out", file],
                portal.BaseUrl);
            return (File: file, Process: process);
        }).ToList();
        var results = new List<Python.Result>();
        foreach (var logger in loggers)
            results.Add(await Python.WaitAsync(logger.Process, TimeSpan.FromSeconds(Seconds + 180)));
        var reports = loggers.Select(l => LoggerReport.Read(l.File)).ToList();

        output.WriteLine("logger  run  batches   points  points/s  requests  retries");
        foreach (var (report, i) in reports.Select((r, i) => (r, i)))
            output.WriteLine($"{i,6} {report.RunId,4} {report.Batches,8} {report.Points,8} {report.PointsPerSecond,9:0} {report.Requests,9} {report.Retries,8}");
        output.WriteLine($"total points {reports.Sum(r => r.Points)}, {reports.Sum(r => r.PointsPerSecond):0} points/s together, {reports.Sum(r => r.Retries)} retries");

        // First what the store holds, for every run that was created: nothing acknowledged may be missing.
        foreach (var report in reports.Where(r => r.RunId > 0))
        {
            var latest = JsonDocument.Parse(await portal.Http.GetStringAsync($"/api/v1/runs/{report.RunId}/metrics")).RootElement
                .EnumerateArray().ToDictionary(m => m.GetProperty("key").GetString()!, m => m.GetProperty("step").GetInt64());
            foreach (var key in LoggerReport.Keys)
            {
                var steps = await RawStepsAsync(portal.Http, report.RunId, key);
                // Without an error every sent batch was acknowledged; after one, the failed batch may have landed whole.
                Assert.True(steps.Count == report.AckedSteps || (report.Errors.Count > 0 && steps.Count == report.SentSteps),
                    $"run {report.RunId} '{key}': the store holds {steps.Count} points, {report.AckedSteps} were acknowledged ({report.SentSteps} sent)");
                Assert.Equal(Enumerable.Range(0, steps.Count).Select(s => (long)s), steps);
                if (steps.Count > 0) Assert.Equal(steps.Count - 1, latest[key]); // latest_metrics kept in step with the points
            }
        }

        // Then what the clients saw: no error at all, and no retry that hid a 5xx or a lock.
        var problems = new List<string>();
        for (var i = 0; i < Loggers; i++)
        {
            var report = reports[i];
            problems.AddRange(report.Errors.Select(e => $"logger {i}: {e}"));
            if (results[i].ExitCode != 0 && report.Errors.Count == 0) problems.Add($"logger {i}: {results[i]}");
            problems.AddRange(report.RetryReasons
                .Where(r => r.Contains("locked", StringComparison.OrdinalIgnoreCase) || Regex.IsMatch(r, @"^5\d\d "))
                .Select(r => $"logger {i} retried after: {r}"));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.DoesNotContain("database is locked", portal.Log, StringComparison.OrdinalIgnoreCase);
        foreach (var report in reports)
        {
            var run = JsonDocument.Parse(await portal.Http.GetStringAsync($"/api/v1/runs/{report.RunId}")).RootElement;
            Assert.Equal("Finished", run.GetProperty("status").GetString());
            Assert.True(report.Points > 0, $"run {report.RunId} logged nothing");
        }
    }

    /// <summary>Every step of one series, from the paged raw history.</summary>
    internal static async Task<List<long>> RawStepsAsync(HttpClient http, int runId, string key)
    {
        var steps = new List<long>();
        string? token = null;
        do
        {
            var url = $"/api/v1/runs/{runId}/metrics/raw?key={Uri.EscapeDataString(key)}&pageSize=10000"
                      + (token is null ? "" : $"&pageToken={Uri.EscapeDataString(token)}");
            var page = JsonDocument.Parse(await http.GetStringAsync(url)).RootElement;
            steps.AddRange(page.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("step").GetInt64()));
            token = page.TryGetProperty("nextPageToken", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        } while (token is not null);
        return steps;
    }
}

/// <summary>What one metric_logger.py process recorded: its run, the batches acknowledged and the one in flight.</summary>
internal sealed class LoggerReport
{
    public static readonly string[] Keys = ["loss", "accuracy", "train/grad_norm", "learning_rate"];

    public int RunId { get; private set; }
    /// <summary>Steps 0 .. AckedSteps-1 were acknowledged, for every key.</summary>
    public int AckedSteps { get; private set; }
    /// <summary>Steps 0 .. SentSteps-1 were at least sent; more than AckedSteps when a batch was in flight at the end.</summary>
    public int SentSteps { get; private set; }
    public int Batches { get; private set; }
    public long Points { get; private set; }
    public double PointsPerSecond { get; private set; }
    public int Requests { get; private set; }
    public int Retries { get; private set; }
    public List<string> RetryReasons { get; } = [];
    public List<string> Errors { get; } = [];

    public static LoggerReport Read(string file)
    {
        var report = new LoggerReport();
        if (!File.Exists(file)) throw new InvalidOperationException($"{file} was never written: the logger did not start.");
        foreach (var line in File.ReadLines(file))
        {
            var entry = JsonDocument.Parse(line).RootElement;
            if (entry.TryGetProperty("run", out var run)) report.RunId = run.GetInt32();
            if (entry.TryGetProperty("sending", out var sending)) report.SentSteps = sending[1].GetInt32() + 1;
            if (entry.TryGetProperty("ack", out var ack))
            {
                Assert.Equal(report.AckedSteps, ack[0].GetInt32()); // batches are contiguous
                report.AckedSteps = ack[1].GetInt32() + 1;
                report.Batches++;
            }
            if (entry.TryGetProperty("error", out var error)) report.Errors.Add(error.GetString()!);
            if (entry.TryGetProperty("summary", out var summary))
            {
                report.Points = summary.GetProperty("points").GetInt64();
                report.PointsPerSecond = summary.GetProperty("points_per_second").GetDouble();
                report.Requests = summary.GetProperty("requests").GetInt32();
                report.Retries = summary.GetProperty("retries").GetInt32();
                report.RetryReasons.AddRange(summary.GetProperty("retry_reasons").EnumerateArray().Select(r => r.GetString()!));
            }
        }
        return report;
    }
}
