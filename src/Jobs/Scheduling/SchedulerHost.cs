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
        // Quartz registers schedulers and data sources process-wide by name, so both carry the store's name.
        var name = SchedulerName(options.SchedulerDatabasePath);
        var properties = new NameValueCollection
        {
            ["quartz.scheduler.instanceName"] = name,
            ["quartz.scheduler.instanceId"] = "local",
            ["quartz.threadPool.maxConcurrency"] = Math.Max(1, options.WorkerSlots).ToString(),
            ["quartz.jobStore.type"] = "Quartz.Impl.AdoJobStore.JobStoreTX, Quartz",
            ["quartz.jobStore.driverDelegateType"] = "Quartz.Impl.AdoJobStore.SQLiteDelegate, Quartz",
            ["quartz.jobStore.dataSource"] = name,
            ["quartz.jobStore.tablePrefix"] = QuartzSchema.TablePrefix,
            ["quartz.jobStore.useProperties"] = "true",
            ["quartz.jobStore.misfireThreshold"] = "60000",
            [$"quartz.dataSource.{name}.provider"] = "SQLite-Microsoft",
            [$"quartz.dataSource.{name}.connectionString"] = connection,
            ["quartz.serializer.type"] = typeof(JobDataSerializer).AssemblyQualifiedName!,
        };
        var factory = new StdSchedulerFactory(properties);
        _scheduler = await factory.GetScheduler(cancellationToken);
        _scheduler.JobFactory = jobFactory;
        foreach (var hook in _beforeStart)
            await hook(cancellationToken);
        if (options.PauseDispatch)
        {
            log.LogWarning("Dispatch is paused: runs are queued but no worker is started");
            return;
        }
        await _scheduler.Start(cancellationToken);
        log.LogInformation("Scheduler started with {Slots} worker slot(s), store {Path}", options.WorkerSlots, options.SchedulerDatabasePath);
    }

    /// <summary>
    /// Quartz keys its rows and its in-process registry by scheduler name. The name must stay the
    /// same for one store across restarts (recovery finds its jobs by it) and differ between stores
    /// in one process (tests host several portals), so it is derived from the store's path.
    /// </summary>
    public static string SchedulerName(string databasePath)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(databasePath)));
        return "ModelOps-" + Convert.ToHexStringLower(hash)[..12];
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_scheduler is { IsShutdown: false })
            await _scheduler.Shutdown(waitForJobsToComplete: false, cancellationToken);
    }
}
