using Hangfire;
using Microsoft.EntityFrameworkCore;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Retraining;

/// <summary>
/// Gets every ended scheduled run to its gate. When a run started by a schedule is published as ended,
/// a decide job goes on the schedules queue at once; a sweep (at start-up and then every
/// <see cref="SweepInterval"/>) catches any ending the event missed, such as a run settled while the
/// portal was down. A decide job delivered twice does nothing the second time.
/// </summary>
public sealed class ScheduleDecisions(RunEvents events, JobsHost jobs, IDbContextFactory<PortalDb> dbs, ILogger<ScheduleDecisions> log) : BackgroundService
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        events.Ended += OnEnded;
        return base.StartAsync(cancellationToken);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        events.Ended -= OnEnded;
        return base.StopAsync(cancellationToken);
    }

    private void OnEnded(Run run)
    {
        if (run.Source != "schedule") return;
        _ = Task.Run(async () =>
        {
            try
            {
                await using var db = await dbs.CreateDbContextAsync();
                var fire = await db.ScheduleFires.AsNoTracking().Where(f => f.RunId == run.Id && f.Outcome == FireOutcomes.Pending).Select(f => (long?)f.Id).FirstOrDefaultAsync();
                if (fire is { } id) Enqueue(id);
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Could not queue the gate of run {RunId}; the sweep will", run.Id);
            }
        });
    }

    private void Enqueue(long fireId) =>
        jobs.Client.Enqueue<ScheduleRunner>(SlotQueues.Schedules, r => r.DecideAsync(fireId, CancellationToken.None));

    /// <summary>Queues the gate of every pending fire whose run has ended; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var ended = await (from f in db.ScheduleFires.AsNoTracking()
                           join r in db.Runs.AsNoTracking() on f.RunId equals r.Id
                           where f.Outcome == FireOutcomes.Pending
                                 && (r.Status == RunStatus.Finished || r.Status == RunStatus.Failed || r.Status == RunStatus.Cancelled)
                           select f.Id).ToListAsync(ct);
        foreach (var id in ended) Enqueue(id);
        return ended.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval);
        do
        {
            try
            {
                if (await SweepAsync(stoppingToken) is > 0 and var n)
                    log.LogInformation("Queued the gate of {Count} ended scheduled run(s)", n);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "The schedule gate sweep failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
