using System.Diagnostics;
using System.Text.Json;
using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

/// <summary>
/// The faults the architecture must absorb, on the real stack: the built portal executable, its
/// scheduler, and real worker processes training with libtorch.
/// </summary>
public sealed class WorkerFaultTests : IAsyncLifetime
{
    private readonly TempFolder _data = new();
    private PortalProcess _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalProcess.StartAsync(_data.Path, null, "--ModelOps:SeedDemoData=false");

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _data.Dispose();
    }

    private static bool IsRunningWithProgress(JsonElement run) =>
        run.GetProperty("status").GetString() == "Running" && run.GetProperty("progress").GetDouble() > 0;

    private static string Status(JsonElement run) => run.GetProperty("status").GetString()!;

    private async Task<int[]> EpochStepsAsync(int runId)
    {
        var points = JsonDocument.Parse(await _portal.Http.GetStringAsync($"/api/v1/runs/{runId}/metrics/history?key=val_accuracy")).RootElement.GetProperty("points");
        return points.EnumerateArray().Select(p => (int)p.GetProperty("step").GetInt64()).ToArray();
    }

    [Fact]
    public async Task A_worker_killed_with_SIGKILL_fails_its_run_with_the_reason_and_the_portal_keeps_serving()
    {
        var runId = await _portal.StartMlpRunAsync(epochs: 500);
        await _portal.WaitForRunAsync(runId, IsRunningWithProgress, TimeSpan.FromSeconds(60));
        var pid = _portal.FindWorkerProcess(runId) ?? throw new InvalidOperationException("No worker process found.");

        Process.GetProcessById(pid).Kill();

        var run = await _portal.WaitForRunAsync(runId, r => Status(r) == "Failed", TimeSpan.FromSeconds(20));
        Assert.Contains("killed (SIGKILL", run.GetProperty("error").GetString());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await _portal.Http.GetAsync("/healthz")).StatusCode);
    }

    /// <summary>
    /// Regression: workers once asked Linux for PR_SET_PDEATHSIG, which fires when the parent
    /// *thread* exits; the portal starts workers from thread-pool threads, which retire when idle,
    /// so every run was SIGKILLed some 30 s in. A worker must live as long as its portal does.
    /// </summary>
    [Fact]
    public async Task A_worker_keeps_training_for_as_long_as_its_portal_lives()
    {
        var runId = await _portal.StartMlpRunAsync(epochs: 1000);
        var started = await _portal.WaitForRunAsync(runId, IsRunningWithProgress, TimeSpan.FromSeconds(60));
        var pid = _portal.FindWorkerProcess(runId) ?? throw new InvalidOperationException("No worker process found.");

        await Task.Delay(TimeSpan.FromSeconds(40));

        var later = await _portal.GetRunAsync(runId);
        Assert.Equal("Running", Status(later));
        Assert.Matches("^(cpu|cuda:[0-9]+)$", later.GetProperty("device").GetString()); // resolved, never "auto"
        Assert.Equal(pid, _portal.FindWorkerProcess(runId));
        Assert.True(later.GetProperty("progress").GetDouble() > started.GetProperty("progress").GetDouble());
        (await _portal.Http.PostAsync($"/api/v1/runs/{runId}/cancel", null)).EnsureSuccessStatusCode();
        await _portal.WaitForRunAsync(runId, r => Status(r) == "Cancelled", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Cancel_stops_a_running_worker_within_five_seconds()
    {
        var runId = await _portal.StartMlpRunAsync(epochs: 500);
        await _portal.WaitForRunAsync(runId, IsRunningWithProgress, TimeSpan.FromSeconds(60));
        var pid = _portal.FindWorkerProcess(runId) ?? throw new InvalidOperationException("No worker process found.");
        var worker = Process.GetProcessById(pid);

        var clock = Stopwatch.StartNew();
        (await _portal.Http.PostAsync($"/api/v1/runs/{runId}/cancel", null)).EnsureSuccessStatusCode();
        await _portal.WaitForRunAsync(runId, r => Status(r) == "Cancelled", TimeSpan.FromSeconds(5));
        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(5) - clock.Elapsed), "The worker was still alive 5 s after Cancel.");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"Cancel took {clock.Elapsed.TotalSeconds:0.0} s.");
    }

    [Fact]
    public async Task A_portal_killed_mid_run_resumes_the_run_from_its_checkpoint_and_then_runs_the_queued_one()
    {
        const int Epochs = 30;
        var running = await _portal.StartMlpRunAsync(epochs: Epochs, dataset: "first");
        var queued = await _portal.StartMlpRunAsync(epochs: 3, rows: 300, dataset: "second");
        // Epoch 3's metrics are acknowledged only after epoch 2's checkpoint was uploaded.
        await _portal.WaitForRunAsync(running, r => Status(r) == "Running", TimeSpan.FromSeconds(60));
        var until = DateTime.UtcNow.AddSeconds(90);
        while ((await EpochStepsAsync(running)).Length < 3 && DateTime.UtcNow < until) await Task.Delay(200);
        var worker = Process.GetProcessById(_portal.FindWorkerProcess(running) ?? throw new InvalidOperationException("No worker process found."));

        await _portal.KillAsync();
        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(5)), "The worker outlived its portal.");
        await _portal.DisposeAsync();
        var restarted = Stopwatch.StartNew();
        _portal = await PortalProcess.StartAsync(_data.Path, null, "--ModelOps:SeedDemoData=false");
        // Recovery does not wait for Hangfire's invisibility timeout (2 h here): the run trains again within 60 s.
        await _portal.WaitForRunAsync(running, r => Status(r) == "Running" && r.GetProperty("attempt").GetInt32() == 2 && _portal.FindWorkerProcess(running) is not null,
            TimeSpan.FromSeconds(60));
        Assert.True(restarted.Elapsed < TimeSpan.FromSeconds(60), $"The run resumed {restarted.Elapsed.TotalSeconds:0.0} s after the restart.");

        var resumed = await _portal.WaitForRunAsync(running, r => Status(r) is "Finished" or "Failed", TimeSpan.FromMinutes(3));
        Assert.Equal("Finished", Status(resumed));
        Assert.Equal(2, resumed.GetProperty("attempt").GetInt32());
        var steps = await EpochStepsAsync(running);
        Assert.Equal(Enumerable.Range(1, Epochs), steps.Distinct().Order());          // no acknowledged epoch lost
        Assert.Single(steps, s => s == 1);                                             // epoch 1 was not trained again
        var second = await _portal.WaitForRunAsync(queued, r => Status(r) is "Finished" or "Failed", TimeSpan.FromMinutes(2));
        Assert.Equal("Finished", Status(second));
    }
}
