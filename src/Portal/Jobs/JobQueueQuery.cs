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
    public async Task<JobQueue> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var rows = await db.Runs.AsNoTracking()
            .Where(r => r.Kind == RunKind.Training && r.DeletedAt == null && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running))
            // Running first, then the queue in the order the scheduler takes it (oldest first).
            .OrderByDescending(r => r.Status).ThenBy(r => r.CreatedAt).ThenBy(r => r.Id)
            .Select(r => new QueuedJob(r.Id, r.Name, r.Status, r.Progress, r.CurrentEpoch, r.Epochs, r.Attempt,
                r.CreatedAt, r.StartedAt, r.LastHeartbeatAt, r.CancelRequested, r.StatusMessage, r.Device, r.Queue, null))
            .ToListAsync(ct);
        var places = new Dictionary<string, int>(StringComparer.Ordinal);
        var listed = rows.Select(j =>
        {
            if (j.Status != RunStatus.Queued) return j;
            var queue = j.Queue ?? SlotQueues.Cpu;
            places[queue] = places.GetValueOrDefault(queue) + 1;
            return j with { Position = places[queue] };
        }).ToList();
        return new JobQueue(listed, jobs.CpuSlots, jobs.GpuSlots,
            listed.Count(j => j.Status == RunStatus.Running), listed.Count(j => j.Status == RunStatus.Queued), DateTime.UtcNow);
    }
}
