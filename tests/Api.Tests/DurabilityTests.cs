using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Api.Tests;

/// <summary>
/// A portal killed outright (SIGKILL, as the OOM killer would) while clients are logging: the
/// store it comes back to must be intact and hold every batch it acknowledged before it died.
/// </summary>
[Collection(PythonClientCollection.Name)]
public sealed class DurabilityTests(ITestOutputHelper output)
{
    private const int Loggers = 4;

    [Fact]
    public async Task Killing_the_portal_during_ingestion_loses_no_acknowledged_batch_and_the_database_reopens_cleanly()
    {
        using var data = new TempFolder();
        using var logs = new TempFolder();
        var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        List<(string File, Python.Result Result)> loggers;
        try
        {
            // Few retries and a short timeout: once the portal is gone each logger should record why and stop.
            var started = Enumerable.Range(0, Loggers).Select(i =>
            {
                var file = Path.Combine(logs.Path, $"logger-{i}.jsonl");
                return (File: file, Process: Python.Start(
                    [Python.Script("metric_logger.py"), "--url", portal.BaseUrl, "--experiment", "durability", "--name", $"logger-{i}",
                     "--duration", "120", "--seed", i.ToString(CultureInfo.InvariantCulture), "--retries", "1", "--timeout", "10", "--out", file],
                    portal.BaseUrl));
            }).ToList();

            await WaitUntilEveryLoggerHasAcknowledgedBatchesAsync(started.Select(s => s.File).ToList(), batches: 3, TimeSpan.FromSeconds(30));
            await Task.Delay(TimeSpan.FromSeconds(2));
            await portal.KillAsync();

            loggers = [];
            foreach (var (file, process) in started)
                loggers.Add((file, await Python.WaitAsync(process, TimeSpan.FromSeconds(60))));
        }
        finally
        {
            await portal.DisposeAsync();
        }

        var reports = loggers.Select(l => LoggerReport.Read(l.File)).ToList();
        for (var i = 0; i < Loggers; i++)
        {
            var report = reports[i];
            output.WriteLine($"logger {i}: run {report.RunId}, {report.AckedSteps} steps acknowledged, {report.SentSteps} sent; {string.Join("; ", report.Errors)}");
            Assert.True(report.RunId > 0 && report.Batches >= 3, loggers[i].Result.ToString());
            Assert.True(report.Errors.Count == 1, $"logger {i} should have stopped on the lost portal:\n{loggers[i].Result}");
        }

        await using var restarted = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        foreach (var report in reports)
        {
            var counts = new HashSet<int>();
            foreach (var key in LoggerReport.Keys)
            {
                var steps = await ConcurrencyTests.RawStepsAsync(restarted.Http, report.RunId, key);
                // Every acknowledged batch is there; the batch in flight at the kill is there whole or not at all.
                Assert.True(steps.Count == report.AckedSteps || steps.Count == report.SentSteps,
                    $"run {report.RunId} '{key}': {steps.Count} points stored; {report.AckedSteps} acknowledged, {report.SentSteps} sent");
                Assert.Equal(Enumerable.Range(0, steps.Count).Select(s => (long)s), steps);
                counts.Add(steps.Count);
            }
            Assert.True(counts.Count == 1, $"run {report.RunId}: the keys hold different counts ({string.Join(", ", counts)}): a batch was half written");
            output.WriteLine($"run {report.RunId}: {counts.First()} steps stored per key after the restart ({report.AckedSteps} acknowledged, {report.SentSteps} sent)");
        }

        // The portal reopened the file (and replayed its WAL); SQLite's own check must find nothing wrong.
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(data.Path, "modelops.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false,
        }.ToString());
        await connection.OpenAsync();
        await using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", (string?)await check.ExecuteScalarAsync());

        // A tracked run belongs to its client, not the scheduler: a restart must leave it as it was,
        // not requeue it for a training worker it never had.
        foreach (var report in reports)
        {
            var run = JsonDocument.Parse(await restarted.Http.GetStringAsync($"/api/v1/runs/{report.RunId}")).RootElement;
            Assert.True(run.GetProperty("status").GetString() == "Running",
                $"run {report.RunId} after the restart: {run.GetProperty("status")} ({run.GetProperty("statusMessage")})");
        }
    }

    private static async Task WaitUntilEveryLoggerHasAcknowledgedBatchesAsync(List<string> files, int batches, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var acked = files.Select(f => File.Exists(f) ? File.ReadLines(f).Count(l => l.Contains("\"ack\"")) : 0).ToList();
            if (acked.All(n => n >= batches)) return;
            if (DateTime.UtcNow > until)
                throw new TimeoutException($"Loggers acknowledged {string.Join(", ", acked)} batches within {timeout}.");
            await Task.Delay(200);
        }
    }
}
