using Microsoft.EntityFrameworkCore;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Jobs;

/// <summary>One run the portal scheduled, as the Jobs page lists it.</summary>
/// <param name="Queue">The slot queue it waits in or runs from (gpu or cpu).</param>
/// <param name="Position">For a queued run, its place in its queue (1 starts next); null while it runs.</param>
public sealed record QueuedJob(int Id, string Name, RunStatus Status, double Progress, int CurrentEpoch, int Epochs, int Attempt,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? LastHeartbeatAt, bool CancelRequested, string? StatusMessage, string? Device,
    string? Queue = null, int? Position = null)
{
    /// <summary>
    /// Time left for a running run at its pace so far (time since it started over its progress); null
    /// before the first progress report or for a queued run.
    /// </summary>
    public static TimeSpan? Eta(RunStatus status, DateTime? startedAt, double progress, DateTime now) =>
        status == RunStatus.Running && startedAt is { } started && progress is > 0.001 and < 1
            ? TimeSpan.FromSeconds((now - started).TotalSeconds * (1 - progress) / progress)
            : null;
}

/// <summary>The scheduler's queue: running jobs first, then the queued ones in the order they will start, with the slots of each queue.</summary>
public sealed record JobQueue(IReadOnlyList<QueuedJob> Jobs, int CpuSlots, int GpuSlots, int Running, int Queued, DateTime At)
{
    /// <summary>Worker slots of both queues.</summary>
    public int WorkerSlots => CpuSlots + GpuSlots;

    /// <summary>Worker slots no running job holds.</summary>
    public int FreeSlots => Math.Max(0, WorkerSlots - Running);
}

/// <summary>
/// What the portal schedules: queued and running training runs (RunKind.Training), with the worker
/// slots they share. Runs reported by API clients (RunKind.Tracked) are never in this queue: the
/// portal does not run them, so it cannot cancel them either (see <see cref="ClientRunService"/>).
/// </summary>
public sealed class JobQueueQuery(IDbContextFactory<PortalDb> dbs, JobsHost jobs)
{
    /// <summary>
    /// The queue, or only the runs of <paramref name="teams"/> (a run belongs to its experiment's team)
    /// when given, filtered in SQL. A queued run's place is its place in the whole queue, as the
    /// scheduler takes it, so it says how long it will wait even when other teams' runs are ahead.
    /// </summary>
    public async Task<JobQueue> ListAsync(IReadOnlyCollection<int>? teams = null, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var scheduled = db.Runs.AsNoTracking()
            .Where(r => r.Kind == RunKind.Training && r.DeletedAt == null && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running));
        var listed = teams is null ? scheduled : scheduled.Where(r => teams.Contains(r.Experiment!.TeamId));
        var rows = await listed
            // Running first, then the queue in the order the scheduler takes it (oldest first).
            .OrderByDescending(r => r.Status).ThenBy(r => r.CreatedAt).ThenBy(r => r.Id)
            .Select(r => new QueuedJob(r.Id, r.Name, r.Status, r.Progress, r.CurrentEpoch, r.Epochs, r.Attempt,
                r.CreatedAt, r.StartedAt, r.LastHeartbeatAt, r.CancelRequested, r.StatusMessage, r.Device, r.Queue,
                // Its place in its own queue: the queued runs of that queue (any team's) created before it, plus one.
                r.Status == RunStatus.Queued
                    ? db.Runs.Count(o => o.Kind == RunKind.Training && o.DeletedAt == null && o.Status == RunStatus.Queued && (o.Queue ?? SlotQueues.Cpu) == (r.Queue ?? SlotQueues.Cpu)
                                           && (o.CreatedAt < r.CreatedAt || (o.CreatedAt == r.CreatedAt && o.Id <= r.Id)))
                    : (int?)null))
            .ToListAsync(ct);
        return new JobQueue(rows, jobs.CpuSlots, jobs.GpuSlots,
            rows.Count(j => j.Status == RunStatus.Running), rows.Count(j => j.Status == RunStatus.Queued), DateTime.UtcNow);
    }
}
