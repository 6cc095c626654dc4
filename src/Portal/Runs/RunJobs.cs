using Microsoft.EntityFrameworkCore;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

/// <summary>
/// The link between a Queued training run and its Hangfire job: every Queued run has a pending job on
/// the queue of its slot kind, and the run remembers which job it is (so a cancel deletes it and a
/// restart does not enqueue a second one).
/// </summary>
public sealed class RunJobs(RunQueue queue, JobsHost host)
{
    /// <summary>Enqueues a job for the run unless it has one pending; saves the job id and queue on the run.</summary>
    public async Task EnsureJobAsync(PortalDb db, int runId, CancellationToken ct)
    {
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null || run.Status != RunStatus.Queued || run.Kind != RunKind.Training) return;
        if (queue.IsPending(run.JobId)) return;
        run.Queue = host.QueueFor(RunOptions.Read(run).Device);
        run.JobId = queue.Enqueue(run.Id, run.Queue);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Takes the run's job off its queue (a queued run that was cancelled).</summary>
    public void Remove(Run run) => queue.Remove(run.JobId);
}
