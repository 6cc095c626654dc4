using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

/// <summary>The portal's answers to the scheduler: start an attempt, and settle a run whose worker exited.</summary>
public sealed class RunLifecycle(PortalDb db, WriteGate gate, RunEvents events, IOptions<PortalOptions> options, ILogger<RunLifecycle> log) : IRunLifecycle
{
    public async Task<WorkerLaunch?> BeginAttemptAsync(int runId, CancellationToken ct)
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
        return new WorkerLaunch(runId, run.Attempt, token);
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
        }
        await db.SaveChangesAsync(ct);
        events.Publish(run);
    }

    /// <summary>
    /// At start-up, before the scheduler fires: no worker of a previous portal process is alive
    /// (workers die with their parent), so a Running run was interrupted. It is requeued to resume
    /// from its last checkpoint, or failed once its attempts are spent. Every Queued run is made
    /// sure to have its job.
    /// </summary>
    public async Task<IReadOnlyList<int>> RecoverAfterRestartAsync(CancellationToken ct)
    {
        var maxAttempts = Math.Max(1, options.Value.MaxAttempts);
        // Tracked runs belong to their clients, which may still be logging; only training runs are the scheduler's.
        foreach (var run in await db.Runs.Where(r => r.Status == RunStatus.Running && r.Kind == RunKind.Training).ToListAsync(ct))
        {
            run.WorkerTokenHash = null;
            if (run.CancelRequested)
            {
                run.Status = RunStatus.Cancelled;
                run.EndedAt = DateTime.UtcNow;
            }
            else if (run.Attempt >= maxAttempts)
            {
                run.Status = RunStatus.Failed;
                run.EndedAt = DateTime.UtcNow;
                run.Error = $"The run was interrupted {run.Attempt} times (portal restart or lost worker); giving up after {maxAttempts} attempts.";
            }
            else
            {
                run.Status = RunStatus.Queued;
                run.StatusMessage = run.CheckpointEpoch > 0
                    ? $"requeued after the portal restarted; resumes after epoch {run.CheckpointEpoch}"
                    : "requeued after the portal restarted";
            }
            log.LogWarning("Run {RunId} was interrupted by a restart: now {Status}", run.Id, run.Status);
        }
        await db.SaveChangesAsync(ct);
        return await db.Runs.Where(r => r.Status == RunStatus.Queued).OrderBy(r => r.Id).Select(r => r.Id).ToListAsync(ct);
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
