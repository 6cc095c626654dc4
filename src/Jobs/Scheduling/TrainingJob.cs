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
        var launch = await lifecycle.BeginAttemptAsync(runId, context.CancellationToken);
        if (launch is null)
        {
            log.LogInformation("Run {RunId} is no longer runnable; job skipped", runId);
            return;
        }
        var exit = await workers.RunAsync(launch, context.CancellationToken);
        if (exit.AbandonedForShutdown)
            return;
        await lifecycle.WorkerExitedAsync(runId, launch.Attempt, exit.ExitCode, exit.ErrorTail, CancellationToken.None);
    }
}
