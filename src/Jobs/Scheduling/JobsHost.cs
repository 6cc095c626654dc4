using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ModelOps.Jobs.Scheduling;

/// <summary>
/// Hangfire, hosted per portal: its SQLite store in a file of its own, a client for enqueueing, and
/// one server per slot queue (gpu: one worker per GPU, cpu: the configured slots), and one worker for
/// the schedules queue (cron fires arrive there from Hangfire's recurring-job scheduler). Nothing goes through Hangfire's process-wide <c>GlobalConfiguration</c> or
/// <c>JobStorage.Current</c>, so tests can host several portals in one process. Before the servers
/// start, the hooks registered with <see cref="BeforeStart"/> run: the portal recovers runs left over
/// from a crash there, so no job is fetched before its run is settled.
/// </summary>
public sealed class JobsHost(JobsOptions options, IServiceScopeFactory scopes, ILogger<JobsHost> log) : IHostedService, IDisposable
{
    private readonly Lazy<JobStorage> _storage = new(() => OpenStorage(options));
    private readonly List<Func<CancellationToken, Task>> _beforeStart = [];
    private readonly List<BackgroundJobServer> _servers = [];
    private readonly CancellationTokenSource _stopping = new();
    private int? _gpuSlots;

    /// <summary>The job store (for the dashboard and the queue).</summary>
    public JobStorage Storage => _storage.Value;

    public IBackgroundJobClient Client => field ??= new BackgroundJobClient(Storage);

    /// <summary>Recurring jobs (retraining schedules' cron fires) in this portal's store.</summary>
    public IRecurringJobManager Recurring => field ??= new RecurringJobManager(Storage);

    /// <summary>Signalled when the portal stops: a running attempt is then abandoned, not cancelled, and resumes at the next start.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>GPU slots: configured, or counted once through the worker's engine.</summary>
    public int GpuSlots => _gpuSlots ??= Math.Max(0, options.GpuSlots ?? SlotQueues.CountGpus(options, log));

    public int CpuSlots => Math.Max(1, options.CpuSlots);

    /// <summary>
    /// The GPUs gpu-queue workers are pinned to, one each: the counted GPUs. With <c>GpuSlots</c> set by
    /// hand nothing is pinned (more slots than GPUs shares them, as configured).
    /// </summary>
    // Published once: two gpu workers starting together after a restart share one pool, never one each.
    public GpuPool Gpus => LazyInitializer.EnsureInitialized(ref _gpus,
        () => new GpuPool(options.GpuSlots is null ? GpuSlots : 0, Environment.GetEnvironmentVariable(GpuPool.VisibleDevicesVariable)));

    private GpuPool? _gpus;

    /// <summary>The queue a run with this device setting waits in.</summary>
    public string QueueFor(string? device) => SlotQueues.For(device, GpuSlots);

    public void BeforeStart(Func<CancellationToken, Task> hook) => _beforeStart.Add(hook);

    /// <summary>
    /// SQLite in its own file by default; PostgreSQL when a connection string is configured, with
    /// sliding invisibility (a fetched job stays invisible while its worker lives, so a long run is
    /// not delivered again) and its own schema, created on first use.
    /// </summary>
    private static JobStorage OpenStorage(JobsOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.PostgreSqlConnectionString))
        {
            var postgres = new PostgreSqlStorageOptions
            {
                QueuePollInterval = options.QueuePollInterval,
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = TimeSpan.FromMinutes(5),
                PrepareSchemaIfNecessary = true,
                SchemaName = "hangfire",
            };
            return new PostgreSqlStorage(new NpgsqlConnectionFactory(options.PostgreSqlConnectionString, postgres), postgres);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.JobStorePath))!);
        return new SQLiteStorage(options.JobStorePath, new SQLiteStorageOptions
        {
            QueuePollInterval = options.QueuePollInterval,
            InvisibilityTimeout = options.InvisibilityTimeout,
        });
    }

    /// <summary>"PostgreSQL" or the SQLite file, for the log and the Jobs page.</summary>
    public string StoreDescription => string.IsNullOrWhiteSpace(options.PostgreSqlConnectionString) ? options.JobStorePath : "PostgreSQL (schema hangfire)";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Storage;
        foreach (var hook in _beforeStart)
            await hook(cancellationToken);
        if (options.PauseDispatch)
        {
            log.LogWarning("Dispatch is paused: runs are queued but no worker is started");
            return;
        }
        var activator = new ServiceJobActivator(scopes);
        BackgroundJobServer Server(string queue, int workers, bool lightweight = false) => new(new BackgroundJobServerOptions
        {
            // A lightweight server runs its workers only: the cpu (and gpu) servers already run the
            // delayed and recurring schedulers, the expiration manager and the cancellation watcher.
            IsLightweightServer = lightweight,
            ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{queue}",
            Queues = [queue],
            WorkerCount = workers,
            Activator = activator,
            SchedulePollingInterval = TimeSpan.FromSeconds(1),
            CancellationCheckInterval = TimeSpan.FromMilliseconds(500),
            // A stopping server gives running jobs this long; a training job abandons its worker at once.
            ShutdownTimeout = TimeSpan.FromSeconds(10),
        }, Storage);
        if (GpuSlots > 0) _servers.Add(Server(SlotQueues.Gpu, GpuSlots));
        _servers.Add(Server(SlotQueues.Cpu, CpuSlots));
        // One worker for fires and gate decisions: they are short, and serial by design.
        _servers.Add(Server(SlotQueues.Schedules, 1, lightweight: true));
        log.LogInformation("Hangfire started: {Gpu} gpu slot(s), {Cpu} cpu slot(s), store {Path}", GpuSlots, CpuSlots, StoreDescription);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // A test host may dispose the container before it stops the hosted services: both paths end the servers once.
        _stopping.Cancel();
        StopServers();
        return Task.CompletedTask;
    }

    /// <summary>The token source holds no timer, so it is left to the collector: Stopping stays readable after disposal.</summary>
    public void Dispose() => StopServers();

    private void StopServers()
    {
        BackgroundJobServer[] servers;
        lock (_servers)
        {
            servers = [.. _servers];
            _servers.Clear();
        }
        foreach (var server in servers) server.SendStop();
        foreach (var server in servers) server.Dispose();
    }
}
