using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

/// <summary>
/// No run stays Running forever. A run's lease is its heartbeat: a Running training run whose lease
/// expired with no local worker process behind it is recovered (requeued on a fresh job to resume
/// from its checkpoint, or failed with the reason after its last attempt), within a sweep of the
/// timeout. A local worker that is alive but silent (hung in native code) is killed, and its run
/// fails with that reason. A worker that exits is settled at once by its job.
/// </summary>
public sealed class RunWatchdog(IServiceScopeFactory scopes, WorkerProcesses workers, IOptions<PortalOptions> options, ILogger<RunWatchdog> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timeout = TimeSpan.FromSeconds(Math.Max(5, options.Value.HeartbeatTimeoutSeconds));
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Min(10, timeout.TotalSeconds / 2)));
        while (await Tick(timer, stoppingToken))
        {
            try
            {
                await SweepAsync(timeout, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Watchdog sweep failed");
            }
        }
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task SweepAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var events = scope.ServiceProvider.GetRequiredService<RunEvents>();
        var lifecycle = scope.ServiceProvider.GetRequiredService<RunLifecycle>();
        var jobs = scope.ServiceProvider.GetRequiredService<RunJobs>();
        var cutoff = DateTime.UtcNow - timeout;
        // Tracked runs are reported by their clients, which end them; only training runs hold a lease.
        var stale = await db.Runs.Where(r => r.Status == RunStatus.Running && r.Kind == RunKind.Training && r.LastHeartbeatAt < cutoff).ToListAsync(ct);
        var alive = stale.Where(r => workers.IsRunning(r.Id)).ToList();
        // Alive but silent (hung in native code, stopped): end it; the job then settles the run with this reason.
        foreach (var run in alive)
            workers.Kill(run.Id, $"The worker sent no heartbeat for {timeout.TotalSeconds:0} s and was stopped.");
        var lost = stale.Except(alive).ToList();
        foreach (var run in lost)
            lifecycle.RecoverLost(run, $"no heartbeat from its worker for {timeout.TotalSeconds:0} s and no worker process is running");
        await db.SaveChangesAsync(ct);
        foreach (var run in lost)
        {
            if (run.Status == RunStatus.Queued) await jobs.EnsureJobAsync(db, run.Id, ct);
            events.Publish(run);
        }
    }
}
