using System.Text.Json;
using Hangfire;
using Hangfire.Storage.SQLite;
using ModelOps.Jobs.Scheduling;
using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

/// <summary>
/// The run's lease decides who trains it, not Hangfire's delivery: the real portal executable, its
/// Hangfire store and real worker processes.
/// </summary>
public sealed class RunLeaseTests
{
    private static string Status(JsonElement run) => run.GetProperty("status").GetString()!;

    [Fact]
    public async Task A_job_delivered_again_while_its_run_trains_starts_no_second_worker()
    {
        using var data = new TempFolder();
        // Two cpu slots, so the second delivery is fetched while the first attempt holds the other slot.
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false", "--ModelOps:WorkerSlots=2");
        var runId = await portal.StartMlpRunAsync(epochs: 25);
        await portal.WaitForRunAsync(runId, r => Status(r) == "Running" && r.GetProperty("progress").GetDouble() > 0, TimeSpan.FromSeconds(60));
        var first = portal.FindWorkerProcess(runId) ?? throw new InvalidOperationException("No worker process found.");

        // What Hangfire's SQLite store does after its invisibility timeout: the same job, delivered again.
        var storage = new SQLiteStorage(Path.Combine(data.Path, "jobs.db"), new SQLiteStorageOptions());
        var again = new BackgroundJobClient(storage).Enqueue<TrainingJob>(SlotQueues.Cpu, job => job.RunAsync(runId, CancellationToken.None));
        var until = DateTime.UtcNow.AddSeconds(20);
        string? state = null;
        while (DateTime.UtcNow < until)
        {
            using (var connection = storage.GetConnection()) state = connection.GetJobData(again)?.State;
            if (state == "Succeeded") break;
            Assert.True(portal.FindWorkerProcesses(runId).Count <= 1, "A second worker process started for the run.");
            await Task.Delay(100);
        }
        Assert.True(state == "Succeeded", $"The second delivery did not end (state {state}).");
        var during = await portal.GetRunAsync(runId);
        Assert.Equal("Running", Status(during));
        Assert.Single(portal.FindWorkerProcesses(runId));
        Assert.Equal(first, portal.FindWorkerProcess(runId));

        var done = await portal.WaitForRunAsync(runId, r => Status(r) is "Finished" or "Failed", TimeSpan.FromMinutes(3));
        Assert.Equal("Finished", Status(done));
        Assert.Equal(1, done.GetProperty("attempt").GetInt32());
    }
}
