using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

public sealed class WorkerStartFailureTests
{
    [Fact]
    public async Task A_worker_that_cannot_start_fails_its_run_at_once_with_the_reason()
    {
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null,
            "--ModelOps:SeedDemoData=false", "--ModelOps:WorkerExecutable=missing/ModelOps.Jobs");
        var runId = await portal.StartMlpRunAsync(epochs: 2, rows: 100);

        // Well inside the 60 s heartbeat timeout, which would otherwise be what ends it.
        var run = await portal.WaitForRunAsync(runId, r => r.GetProperty("status").GetString() == "Failed", TimeSpan.FromSeconds(20));
        Assert.Contains("could not be started", run.GetProperty("error").GetString());
    }
}
