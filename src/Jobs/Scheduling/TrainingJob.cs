using Microsoft.Extensions.Logging;
using Quartz;

namespace ModelOps.Jobs.Scheduling;

/// <summary>
/// Runs one attempt of one training run in a worker process. The job's data holds only the run id;
/// everything else is read from the portal when the attempt begins.
/// </summary>
[DisallowConcurrentExecution]
public sealed class TrainingJob(IRunLifecycle lifecycle, WorkerProcesses workers, ILogger<TrainingJob> log) : IJob
{
    public const string Group = "training";
    public const string RunIdKey = "runId";

    public static JobKey KeyFor(int runId) => new($"run-{runId}", Group);

    public async Task Execute(IJobExecutionContext context)
    {
        var runId = int.Parse(context.MergedJobDataMap.GetString(RunIdKey)!);
        WorkerLaunch? launch;
        try
        {
            launch = await lifecycle.BeginAttemptAsync(runId, context.CancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A one-shot trigger that fails is deleted with its job; ask Quartz to fire it again instead.
            log.LogWarning(ex, "Could not begin run {RunId}; retrying", runId);
            await Task.Delay(TimeSpan.FromSeconds(2), context.CancellationToken);
            throw new JobExecutionException(ex, refireImmediately: true);
        }
        if (launch is null)
        {
            log.LogInformation("Run {RunId} is no longer runnable; job skipped", runId);
            return;
        }
        WorkerExit exit;
        try
        {
            exit = await workers.RunAsync(launch, context.CancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The process never ran (missing executable, no permission): fail now, not after the heartbeat timeout.
            log.LogError(ex, "Could not start the worker for run {RunId}", runId);
            exit = new WorkerExit(-1, $"The worker process could not be started: {ex.Message}", false);
        }
        if (exit.AbandonedForShutdown)
            return;
        await lifecycle.WorkerExitedAsync(runId, launch.Attempt, exit.ExitCode, exit.ErrorTail, exit.Reason, CancellationToken.None);
    }
}
