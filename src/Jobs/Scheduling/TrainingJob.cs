using Hangfire;
using Microsoft.Extensions.Logging;

namespace ModelOps.Jobs.Scheduling;

/// <summary>
/// One delivery of one training run: begins an attempt and runs it in a worker process. Hangfire may
/// deliver a job again (after a crash, or on SQLite after the invisibility timeout while the first copy
/// still runs); the portal's run lease decides, so a delivery that finds the run taken does nothing.
/// The job's arguments are only the run id; everything else is read from the portal when it begins.
/// </summary>
public sealed class TrainingJob(IRunLifecycle lifecycle, WorkerProcesses workers, JobsHost host, ILogger<TrainingJob> log)
{
    /// <summary>
    /// Hangfire retries only a failure to begin (the store busy, say); once a worker ran, the portal
    /// decides about further attempts, so nothing after that throws.
    /// </summary>
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [1, 2, 5, 10, 30], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task RunAsync(int runId, CancellationToken cancellationToken)
    {
        var launch = await lifecycle.BeginAttemptAsync(runId, host.Stopping);
        if (launch is null)
        {
            log.LogInformation("Run {RunId} is not runnable here (taken by a live attempt, or ended); delivery skipped", runId);
            return;
        }
        // The job's token fires when the portal stops (abandon: the run resumes at the next start) or when
        // the job was deleted (a cancel, here or in the dashboard): the worker is asked to stop.
        using var deleted = cancellationToken.Register(() =>
        {
            if (host.Stopping.IsCancellationRequested) return;
            _ = Task.Run(async () =>
            {
                try
                {
                    await lifecycle.JobCancelledAsync(runId, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    log.LogWarning(ex, "Could not record the cancel of run {RunId}", runId);
                }
                workers.RequestCancel(runId);
            });
        });
        // A gpu-queue run trains on a GPU no other worker of this portal holds (one Hangfire worker per GPU).
        using var gpu = launch.Queue == SlotQueues.Gpu && !launch.NamesGpu ? host.Gpus.Rent() : null;
        WorkerExit exit;
        try
        {
            exit = await workers.RunAsync(launch, host.Stopping, gpu?.Device);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The process never ran (missing executable, no permission): fail now, not after the lease runs out.
            log.LogError(ex, "Could not start the worker for run {RunId}", runId);
            exit = new WorkerExit(-1, $"The worker process could not be started: {ex.Message}", false);
        }
        if (exit.AbandonedForShutdown)
            return;
        await lifecycle.WorkerExitedAsync(runId, launch.Attempt, exit.ExitCode, exit.ErrorTail, exit.Reason, CancellationToken.None);
    }
}
