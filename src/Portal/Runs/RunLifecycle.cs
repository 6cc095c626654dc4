using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

/// <summary>The portal's answers to the scheduler: start an attempt, and settle a run whose worker exited.</summary>
public sealed class RunLifecycle(PortalDb db, WriteGate gate, RunEvents events, RunJobs jobs, WorkerProcesses workers, IOptions<PortalOptions> options, ILogger<RunLifecycle> log) : IRunLifecycle
{
    private TimeSpan LeaseTimeout => TimeSpan.FromSeconds(Math.Max(5, options.Value.HeartbeatTimeoutSeconds));

    public async Task<WorkerLaunch?> BeginAttemptAsync(int runId, CancellationToken ct)
    {
        // A delivery that finds the run Running under an expired lease, with no worker of this portal
        // behind it, recovers it first (requeue from the checkpoint, or fail after the last attempt).
        var cutoff = DateTime.UtcNow - LeaseTimeout;
        if (!workers.IsRunning(runId)
            && await db.Runs.FirstOrDefaultAsync(r => r.Id == runId && r.Kind == RunKind.Training && r.Status == RunStatus.Running && r.LastHeartbeatAt < cutoff, ct) is { } lost)
        {
            RecoverLost(lost, $"its lease expired (no heartbeat for {LeaseTimeout.TotalSeconds:0} s)");
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            if (lost.Status != RunStatus.Queued)
            {
                events.Publish(lost);
                return null;
            }
        }
        return await BeginQueuedAsync(runId, ct);
    }

    private async Task<WorkerLaunch?> BeginQueuedAsync(int runId, CancellationToken ct)
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var hash = HashToken(token);
        var now = DateTime.UtcNow;
        await using var writing = await gate.EnterAsync(db, ct);
        // One atomic transition: only a Queued, uncancelled run becomes Running, so a recovered
        // trigger and a fresh one can never both start it.
        var changed = await db.Runs
            .Where(r => r.Id == runId && r.Status == RunStatus.Queued && !r.CancelRequested)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Running)
                .SetProperty(r => r.Attempt, r => r.Attempt + 1)
                .SetProperty(r => r.WorkerTokenHash, hash)
                .SetProperty(r => r.LastHeartbeatAt, now)
                .SetProperty(r => r.StatusMessage, "starting the worker")
            .SetProperty(r => r.StartedAt, r => r.StartedAt ?? now), ct);
        if (changed == 0)
            return null;
        var run = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId, ct);
        events.Publish(run);
        log.LogInformation("Run {RunId} attempt {Attempt} dispatched", runId, run.Attempt);
        return new WorkerLaunch(runId, run.Attempt, token, run.Queue, RunOptions.Read(run).Device);
    }

    public async Task JobCancelledAsync(int runId, CancellationToken ct)
    {
        await using var writing = await gate.EnterAsync(db, ct);
        await db.Runs.Where(r => r.Id == runId && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running) && !r.CancelRequested)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true).SetProperty(r => r.StatusMessage, "cancelling"), ct);
    }

    /// <summary>
    /// A Running training run whose worker is gone (lease expired, or the portal restarted): back to Queued
    /// to resume from its last checkpoint on a fresh job, or Failed with the reason once its attempts are
    /// spent, or Cancelled if a cancel was pending. The caller saves.
    /// </summary>
    public void RecoverLost(Run run, string why)
    {
        var maxAttempts = Math.Max(1, options.Value.MaxAttempts);
        run.WorkerTokenHash = null;
        // The job that delivered the lost attempt is dead (or will be re-delivered and find the run taken).
        run.JobId = null;
        if (run.CancelRequested)
        {
            run.Status = RunStatus.Cancelled;
            run.EndedAt = DateTime.UtcNow;
            run.StatusMessage = "cancelled";
        }
        else if (run.Attempt >= maxAttempts)
        {
            run.Status = RunStatus.Failed;
            run.EndedAt = DateTime.UtcNow;
            run.Error = $"The run was interrupted {run.Attempt} times ({why}); giving up after {maxAttempts} attempts.";
            run.StatusMessage = "failed";
            Notifications.RunFailures.Raise(db, run, "portal");
        }
        else
        {
            run.Status = RunStatus.Queued;
            run.StatusMessage = run.CheckpointEpoch > 0
                ? $"requeued because {why}; resumes after epoch {run.CheckpointEpoch}"
                : $"requeued because {why}";
        }
        log.LogWarning("Run {RunId} lost its worker ({Why}): now {Status}", run.Id, why, run.Status);
    }

    public async Task WorkerExitedAsync(int runId, int attempt, int exitCode, string? errorTail, string? reason, CancellationToken ct)
    {
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null || run.Attempt != attempt || run.Status.IsTerminal())
            return;
        run.EndedAt = DateTime.UtcNow;
        run.WorkerTokenHash = null;
        if (run.CancelRequested)
        {
            run.Status = RunStatus.Cancelled;
            run.StatusMessage = "cancelled";
        }
        else
        {
            run.Status = RunStatus.Failed;
            run.Error = DescribeExit(exitCode, errorTail, reason);
            run.StatusMessage = "worker died";
            Notifications.RunFailures.Raise(db, run, "portal");
        }
        await db.SaveChangesAsync(ct);
        events.Publish(run);
    }

    /// <summary>
    /// At start-up, before any job is fetched: no worker of a previous portal process is alive (workers
    /// die with their parent), so a Running training run was interrupted: it is requeued to resume from
    /// its last checkpoint, or failed once its attempts are spent. Every Queued run is then made sure to
    /// have a pending job (runs queued under Quartz, or whose enqueue was cut short, get one here).
    /// Returns the Queued runs.
    /// </summary>
    public async Task<IReadOnlyList<int>> RecoverAfterRestartAsync(CancellationToken ct)
    {
        // Tracked runs belong to their clients, which may still be logging; only training runs are the scheduler's.
        var interrupted = await db.Runs.Where(r => r.Status == RunStatus.Running && r.Kind == RunKind.Training).ToListAsync(ct);
        foreach (var run in interrupted)
            RecoverLost(run, "the portal restarted");
        await db.SaveChangesAsync(ct);
        var queued = await db.Runs.Where(r => r.Status == RunStatus.Queued && r.Kind == RunKind.Training).OrderBy(r => r.Id).Select(r => r.Id).ToListAsync(ct);
        foreach (var runId in queued)
            await jobs.EnsureJobAsync(db, runId, ct);
        return queued;
    }

    public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string DescribeExit(int exitCode, string? errorTail, string? reason)
    {
        if (reason is not null)
            return string.IsNullOrWhiteSpace(errorTail) ? reason : $"{reason} Last output: {Tail(errorTail)}";
        var what = exitCode switch
        {
            137 => "was killed (SIGKILL: out of memory, or killed by hand)",
            134 => "aborted (SIGABRT, usually a crash inside native code)",
            139 => "crashed (SIGSEGV inside native code)",
            3 => "lost contact with the portal",
            -1 => "did not run",
            _ => $"exited with code {exitCode}",
        };
        var text = new StringBuilder($"The worker process {what} before finishing the run.");
        if (!string.IsNullOrWhiteSpace(errorTail))
            text.Append(" Last output: ").Append(Tail(errorTail));
        return text.ToString();
    }

    private static string Tail(string text) => text.Length > 1500 ? text[^1500..] : text;
}
