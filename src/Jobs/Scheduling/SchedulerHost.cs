using System.Collections.Specialized;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using Quartz.Impl;

namespace ModelOps.Jobs.Scheduling;

/// <summary>
/// Hosts Quartz with its persistent ADO store in an SQLite file of its own (so the scheduler's
/// locking never contends with metric writes). Quartz.Extensions.Hosting is not obtainable here,
/// hence this small hosted service. Before the scheduler starts firing, the hooks registered with
/// <see cref="BeforeStart"/> run: the portal uses one to reconcile runs left over from a crash.
/// </summary>
public sealed class SchedulerHost(JobsOptions options, ServiceJobFactory jobFactory, ILogger<SchedulerHost> log) : IHostedService
{
    private IScheduler? _scheduler;
    private readonly List<Func<CancellationToken, Task>> _beforeStart = [];

    public IScheduler Scheduler => _scheduler ?? throw new InvalidOperationException("The scheduler has not been started.");

    public void BeforeStart(Func<CancellationToken, Task> hook) => _beforeStart.Add(hook);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = $"Data Source={options.SchedulerDatabasePath};Default Timeout=30";
        Directory.CreateDirectory(Path.GetDirectoryName(options.SchedulerDatabasePath)!);
        QuartzSchema.EnsureCreated(connection);
        var properties = new NameValueCollection
        {
            ["quartz.scheduler.instanceName"] = "ModelOps",
            ["quartz.scheduler.instanceId"] = "local",
            ["quartz.threadPool.maxConcurrency"] = Math.Max(1, options.WorkerSlots).ToString(),
            ["quartz.jobStore.type"] = "Quartz.Impl.AdoJobStore.JobStoreTX, Quartz",
            ["quartz.jobStore.driverDelegateType"] = "Quartz.Impl.AdoJobStore.SQLiteDelegate, Quartz",
            ["quartz.jobStore.dataSource"] = "default",
            ["quartz.jobStore.tablePrefix"] = QuartzSchema.TablePrefix,
            ["quartz.jobStore.useProperties"] = "true",
            ["quartz.jobStore.misfireThreshold"] = "60000",
            ["quartz.dataSource.default.provider"] = "SQLite-Microsoft",
            ["quartz.dataSource.default.connectionString"] = connection,
            ["quartz.serializer.type"] = typeof(JobDataSerializer).AssemblyQualifiedName!,
        };
        var factory = new StdSchedulerFactory(properties);
        _scheduler = await factory.GetScheduler(cancellationToken);
        _scheduler.JobFactory = jobFactory;
        foreach (var hook in _beforeStart)
            await hook(cancellationToken);
        await _scheduler.Start(cancellationToken);
        log.LogInformation("Scheduler started with {Slots} worker slot(s), store {Path}", options.WorkerSlots, options.SchedulerDatabasePath);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_scheduler is { IsShutdown: false })
            await _scheduler.Shutdown(waitForJobsToComplete: false, cancellationToken);
    }
}
