using Quartz;

namespace ModelOps.Jobs.Scheduling;

/// <summary>Puts runs on the persistent queue and takes them off. One job per run: the key is the run id.</summary>
public sealed class RunQueue(SchedulerHost host)
{
    public async Task EnqueueAsync(int runId, CancellationToken ct = default)
    {
        var scheduler = host.Scheduler;
        var key = TrainingJob.KeyFor(runId);
        var trigger = TriggerBuilder.Create()
            .WithIdentity(key.Name, key.Group)
            .ForJob(key)
            .StartNow()
            .WithSimpleSchedule(s => s.WithMisfireHandlingInstructionFireNow())
            .Build();
        if (await scheduler.CheckExists(key, ct))
        {
            // Left by a crash: make sure it still has something to fire it.
            if ((await scheduler.GetTriggersOfJob(key, ct)).Count == 0)
                await scheduler.ScheduleJob(trigger, ct);
            return;
        }
        var job = JobBuilder.Create<TrainingJob>()
            .WithIdentity(key)
            .UsingJobData(TrainingJob.RunIdKey, runId.ToString())
            .RequestRecovery()
            .Build();
        try
        {
            await scheduler.ScheduleJob(job, trigger, ct);
        }
        catch (ObjectAlreadyExistsException)
        {
            // A concurrent enqueue of the same run won; one job is what we want.
        }
    }

    public Task<bool> RemoveAsync(int runId, CancellationToken ct = default) =>
        host.Scheduler.DeleteJob(TrainingJob.KeyFor(runId), ct);

    public Task<bool> ContainsAsync(int runId, CancellationToken ct = default) =>
        host.Scheduler.CheckExists(TrainingJob.KeyFor(runId), ct);
}
