using System.Diagnostics;
using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

/// <summary>Runs whose worker stops reporting do not stay Running: the real portal with a short heartbeat timeout.</summary>
public sealed class WatchdogTests
{
    [Fact]
    public async Task A_hung_worker_is_stopped_and_its_run_failed_with_the_reason()
    {
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null,
            "--ModelOps:SeedDemoData=false", "--ModelOps:HeartbeatTimeoutSeconds=5");
        var runId = await portal.StartMlpRunAsync(epochs: 1000);
        await portal.WaitForRunAsync(runId, r => r.GetProperty("status").GetString() == "Running" && r.GetProperty("progress").GetDouble() > 0, TimeSpan.FromSeconds(60));
        var pid = portal.FindWorkerProcess(runId) ?? throw new InvalidOperationException("No worker process found.");

        // SIGSTOP: the process stays alive but does nothing, like a worker hung inside native code.
        using (var stop = Process.Start("kill", ["-STOP", pid.ToString()])) await stop.WaitForExitAsync();

        var run = await portal.WaitForRunAsync(runId, r => r.GetProperty("status").GetString() == "Failed", TimeSpan.FromSeconds(30));
        Assert.Contains("sent no heartbeat for 5 s and was stopped", run.GetProperty("error").GetString());
        Assert.Null(portal.FindWorkerProcess(runId));
    }
}
