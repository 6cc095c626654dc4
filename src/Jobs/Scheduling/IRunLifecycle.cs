namespace ModelOps.Jobs.Scheduling;

/// <summary>What the portal decides when the scheduler dispatches a run's job.</summary>
public sealed record WorkerLaunch(int RunId, int Attempt, string Token);

/// <summary>
/// The scheduler's view of the run store. Implemented by the portal, which owns the database:
/// references point down, so the Jobs room states what it needs and the Portal room provides it.
/// </summary>
public interface IRunLifecycle
{
    /// <summary>
    /// Moves a Queued run to Running for a new attempt and issues its worker token; null when the
    /// run is no longer runnable (cancelled, finished, already running elsewhere).
    /// </summary>
    Task<WorkerLaunch?> BeginAttemptAsync(int runId, CancellationToken ct);

    /// <summary>
    /// The worker process exited; the portal marks the run Failed or Cancelled if the worker did not
    /// finish it. <paramref name="reason"/> says why the portal ended it, when it did.
    /// </summary>
    Task WorkerExitedAsync(int runId, int attempt, int exitCode, string? errorTail, string? reason, CancellationToken ct);
}
