using Hangfire;
using Hangfire.States;

namespace ModelOps.Jobs.Scheduling;

/// <summary>Puts runs on Hangfire's persistent queues and takes them off. The portal keeps each run's job id.</summary>
public sealed class RunQueue(JobsHost host)
{
    private static readonly HashSet<string> PendingStates =
        new([EnqueuedState.StateName, ProcessingState.StateName, ScheduledState.StateName, AwaitingState.StateName], StringComparer.OrdinalIgnoreCase);

    /// <summary>Enqueues one delivery of the run on its slot queue; returns the job id.</summary>
    public string Enqueue(int runId, string queue) =>
        host.Client.Enqueue<TrainingJob>(queue, job => job.RunAsync(runId, CancellationToken.None));

    /// <summary>Whether the job will still be (or is being) delivered.</summary>
    public bool IsPending(string? jobId)
    {
        if (string.IsNullOrEmpty(jobId)) return false;
        using var connection = host.Storage.GetConnection();
        return connection.GetJobData(jobId)?.State is { } state && PendingStates.Contains(state);
    }

    /// <summary>Deletes the job: a queued one is never delivered, a running one's cancellation token fires.</summary>
    public bool Remove(string? jobId) => !string.IsNullOrEmpty(jobId) && host.Client.Delete(jobId);
}
