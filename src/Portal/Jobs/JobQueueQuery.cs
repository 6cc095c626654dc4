using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Jobs;

/// <summary>One run the portal scheduled, as the Jobs page lists it.</summary>
public sealed record QueuedJob(int Id, string Name, RunStatus Status, double Progress, int CurrentEpoch, int Epochs, int Attempt,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? LastHeartbeatAt, bool CancelRequested, string? StatusMessage, string? Device);

/// <summary>The scheduler's queue: running jobs first, then the queued ones in the order they will start.</summary>
public sealed record JobQueue(IReadOnlyList<QueuedJob> Jobs, int WorkerSlots, int Running, int Queued, DateTime At)
{
    /// <summary>Worker slots no running job holds.</summary>
    public int FreeSlots => Math.Max(0, WorkerSlots - Running);
}

/// <summary>
/// What the portal schedules: queued and running training runs (RunKind.Training), with the worker
/// slots they share. Runs reported by API clients (RunKind.Tracked) are never in this queue: the
/// portal does not run them, so it cannot cancel them either (see <see cref="ClientRunService"/>).
/// </summary>
public sealed class JobQueueQuery(IDbContextFactory<PortalDb> dbs, IOptions<PortalOptions> options)
{
    public async Task<JobQueue> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var jobs = await db.Runs.AsNoTracking()
            .Where(r => r.Kind == RunKind.Training && r.DeletedAt == null && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running))
            // Running first, then the queue in the order the scheduler takes it (oldest first).
            .OrderByDescending(r => r.Status).ThenBy(r => r.CreatedAt).ThenBy(r => r.Id)
            .Select(r => new QueuedJob(r.Id, r.Name, r.Status, r.Progress, r.CurrentEpoch, r.Epochs, r.Attempt,
                r.CreatedAt, r.StartedAt, r.LastHeartbeatAt, r.CancelRequested, r.StatusMessage, r.Device))
            .ToListAsync(ct);
        return new JobQueue(jobs, options.Value.WorkerSlots,
            jobs.Count(j => j.Status == RunStatus.Running), jobs.Count(j => j.Status == RunStatus.Queued), DateTime.UtcNow);
    }
}
