using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

/// <summary>
/// No run stays Running forever: a Running run whose heartbeats stopped, with no local worker
/// process behind it, is failed with the reason. (A local worker that exits is settled at once
/// by the job; this catches workers that vanished some other way, and remote ones later.)
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
        var cutoff = DateTime.UtcNow - timeout;
        var stale = await db.Runs.Where(r => r.Status == RunStatus.Running && r.LastHeartbeatAt < cutoff).ToListAsync(ct);
        var alive = stale.Where(r => workers.IsRunning(r.Id)).ToList();
        // Alive but silent (hung in native code, stopped): end it; the job then settles the run with this reason.
        foreach (var run in alive)
            workers.Kill(run.Id, $"The worker sent no heartbeat for {timeout.TotalSeconds:0} s and was stopped.");
        foreach (var run in stale.Except(alive))
        {
            run.Status = RunStatus.Failed;
            run.EndedAt = DateTime.UtcNow;
            run.WorkerTokenHash = null;
            run.Error = $"No heartbeat from the worker for {timeout.TotalSeconds:0} s and no worker process is running; the run was lost.";
            log.LogWarning("Run {RunId} lost its worker", run.Id);
        }
        await db.SaveChangesAsync(ct);
        foreach (var run in stale.Where(r => r.Status == RunStatus.Failed)) events.Publish(run);
    }
}
