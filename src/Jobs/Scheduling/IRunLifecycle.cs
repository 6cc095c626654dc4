namespace ModelOps.Jobs.Scheduling;

/// <summary>What the portal decides when the scheduler dispatches a run's job.</summary>
/// <param name="Queue">The slot queue the run waits in (gpu or cpu); a gpu run is pinned to one free GPU.</param>
/// <param name="Device">The device the run asked for (auto, cpu, cuda, cuda:1); a run that names a GPU index is not pinned.</param>
public sealed record WorkerLaunch(int RunId, int Attempt, string Token, string? Queue = null, string? Device = null)
{
    /// <summary>Whether the run names one GPU itself (cuda:1): pinning it to another would hide the one it asked for.</summary>
    public bool NamesGpu => Device is { } d && d.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The scheduler's view of the run store. Implemented by the portal, which owns the database:
/// references point down, so the Jobs room states what it needs and the Portal room provides it.
/// </summary>
public interface IRunLifecycle
{
    /// <summary>
    /// Begins a new attempt of a Queued run atomically and issues its worker token and lease (renewed by
    /// the worker's heartbeats); null when the run is not runnable here: ended, cancelled, or Running
    /// under a live lease (a second delivery of the same job).
    /// </summary>
    Task<WorkerLaunch?> BeginAttemptAsync(int runId, CancellationToken ct);

    /// <summary>
    /// The worker process exited; the portal marks the run Failed or Cancelled if the worker did not
    /// finish it. <paramref name="reason"/> says why the portal ended it, when it did.
    /// </summary>
    /// <summary>The run's job was deleted while it ran (a cancel from the dashboard): stop it as a cancel.</summary>
    Task JobCancelledAsync(int runId, CancellationToken ct);

    Task WorkerExitedAsync(int runId, int attempt, int exitCode, string? errorTail, string? reason, CancellationToken ct);
}
