using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Tests;

/// <summary>
/// The run lease over the real portal services and SQLite file: a delivery that finds a live lease does
/// nothing, one that finds an expired lease recovers the run (requeue, then begin the next attempt), and
/// a run out of attempts fails with the reason. Every queued run has a pending Hangfire job.
/// </summary>
public sealed class RunLeaseTests : IDisposable
{
    private readonly PortalFactory _portal = new PortalFactory().With("ModelOps:HeartbeatTimeoutSeconds", "5").With("ModelOps:MaxAttempts", "2");

    public void Dispose() => _portal.Dispose();

    private Task<WorkerLaunch?> DeliverAsync(int runId) =>
        _portal.InScopeAsync(sp => sp.GetRequiredService<RunLifecycle>().BeginAttemptAsync(runId, CancellationToken.None));

    /// <summary>Moves the run's last heartbeat into the past: the lease ran out that long ago.</summary>
    private Task AgeLeaseAsync(int runId, TimeSpan by) =>
        _portal.InScopeAsync(sp => sp.GetRequiredService<PortalDb>().Runs.Where(r => r.Id == runId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LastHeartbeatAt, DateTime.UtcNow - by)));

    [Fact]
    public async Task A_queued_run_has_a_pending_job_on_its_slot_queue()
    {
        var http = _portal.CreateClient();
        var runId = await SimulatedWorker.QueueCsvRunAsync(http);
        var run = _portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == runId));
        Assert.Equal(SlotQueues.Cpu, run.Queue);
        Assert.False(string.IsNullOrEmpty(run.JobId));
        Assert.True(_portal.Services.GetRequiredService<RunQueue>().IsPending(run.JobId));
    }

    [Fact]
    public async Task A_second_delivery_under_a_live_lease_does_nothing()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_portal.CreateClient());
        var first = await DeliverAsync(runId);
        Assert.NotNull(first);
        Assert.Null(await DeliverAsync(runId));
        var run = _portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == runId));
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Equal(1, run.Attempt);
    }

    [Fact]
    public async Task A_delivery_that_finds_an_expired_lease_resumes_the_run_as_its_next_attempt_then_fails_it_after_the_last()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_portal.CreateClient());
        var first = await DeliverAsync(runId);
        Assert.Equal(1, first!.Attempt);

        await AgeLeaseAsync(runId, TimeSpan.FromSeconds(30));
        var second = await DeliverAsync(runId);
        Assert.NotNull(second);
        Assert.Equal(2, second!.Attempt);
        Assert.NotEqual(first.Token, second.Token);
        var run = _portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == runId));
        Assert.Equal(RunStatus.Running, run.Status);
        // The first attempt's token no longer reports for the run.
        var stale = new SimulatedWorker(_portal, runId, first.Token);
        var refused = await stale.Http.PostAsync($"/api/v1/runs/{runId}/heartbeat",
            System.Net.Http.Json.JsonContent.Create(new ModelOps.Jobs.Protocol.Heartbeat(0.5, 1, 8, null)));
        Assert.Equal(403, (int)refused.StatusCode);

        // MaxAttempts is 2: the next expired lease ends the run with the reason.
        await AgeLeaseAsync(runId, TimeSpan.FromSeconds(30));
        Assert.Null(await DeliverAsync(runId));
        run = _portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == runId));
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("lease expired", run.Error);
        Assert.Contains("giving up after 2 attempts", run.Error);
    }

    [Fact]
    public async Task The_watchdog_requeues_a_run_whose_lease_expired_on_a_fresh_job()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_portal.CreateClient());
        var oldJob = _portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == runId)).JobId;
        await DeliverAsync(runId);
        await AgeLeaseAsync(runId, TimeSpan.FromSeconds(30));

        // The watchdog sweeps every half timeout (2.5 s here).
        var until = DateTime.UtcNow.AddSeconds(15);
        Run run;
        do
        {
            await Task.Delay(250);
            run = _portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == runId));
        } while (run.Status == RunStatus.Running && DateTime.UtcNow < until);
        Assert.Equal(RunStatus.Queued, run.Status);
        Assert.Contains("requeued because no heartbeat", run.StatusMessage);
        Assert.NotEqual(oldJob, run.JobId);
        Assert.True(_portal.Services.GetRequiredService<RunQueue>().IsPending(run.JobId));
    }

    [Fact]
    public async Task A_run_queued_before_the_move_to_Hangfire_gets_its_job_at_start_up()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_portal.CreateClient());
        // What a run queued under Quartz looks like after the migration: Queued, with no Hangfire job.
        await _portal.InScopeAsync(sp => sp.GetRequiredService<PortalDb>().Runs.Where(r => r.Id == runId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.JobId, (string?)null).SetProperty(r => r.Queue, (string?)null)));

        var queued = await _portal.InScopeAsync(sp => sp.GetRequiredService<RunLifecycle>().RecoverAfterRestartAsync(CancellationToken.None));

        Assert.Equal([runId], queued);
        var run = _portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == runId));
        Assert.Equal(SlotQueues.Cpu, run.Queue);
        Assert.True(_portal.Services.GetRequiredService<RunQueue>().IsPending(run.JobId));
        // A second start-up does not enqueue it again: its job is still pending.
        var job = run.JobId;
        await _portal.InScopeAsync(sp => sp.GetRequiredService<RunLifecycle>().RecoverAfterRestartAsync(CancellationToken.None));
        Assert.Equal(job, _portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == runId)).JobId);
    }
}
