namespace ModelOps.Portal.Infrastructure;

/// <summary>The "ModelOps" section of appsettings.json (repository root).</summary>
public sealed class PortalOptions
{
    public const string Section = "ModelOps";

    /// <summary>Everything the portal writes lives here. Relative paths are resolved against the working directory.</summary>
    public string DataDirectory { get; set; } = "data";
    /// <summary>Empty: an SQLite file "modelops.db" in the data folder.</summary>
    public string? ConnectionString { get; set; }
    /// <summary>Concurrent training workers on the CPU queue (runs that asked for cpu, or every run without GPU slots).</summary>
    public int WorkerSlots { get; set; } = 1;
    /// <summary>
    /// Concurrent training workers on the GPU queue, one per GPU. Empty: the number of CUDA devices the
    /// workers' LibTorch sees (0 without <see cref="LibTorchDirectory"/>); 0: no GPU queue.
    /// </summary>
    public int? GpuSlots { get; set; }
    /// <summary>How often an idle Hangfire worker polls the SQLite job store, in milliseconds (Hangfire's default is 15,000).</summary>
    public int QueuePollMilliseconds { get; set; } = 100;
    /// <summary>libtorch threads per worker; 0: this machine's cores divided among the worker slots.</summary>
    public int WorkerThreads { get; set; }
    /// <summary>auto, cpu or cuda; passed to the worker.</summary>
    public string Device { get; set; } = "auto";
    /// <summary>
    /// A CUDA LibTorch 2.10 folder (a LibTorch distribution, or the torch folder of a CUDA build of PyTorch 2.10)
    /// that the workers load instead of the package's CPU LibTorch; empty: CPU only. See NativeBackend.
    /// </summary>
    public string? LibTorchDirectory { get; set; }
    public long MaxUploadBytes { get; set; } = 1L << 30;
    /// <summary>Where workers reach the portal; empty: the first address Kestrel listens on.</summary>
    public string? PortalUrl { get; set; }
    /// <summary>A Running run without a heartbeat for this long is treated as lost.</summary>
    public int HeartbeatTimeoutSeconds { get; set; } = 60;
    /// <summary>Attempts per run, the first included, before a lost run is marked Failed.</summary>
    public int MaxAttempts { get; set; } = 3;
    public bool SeedDemoData { get; set; } = true;
    /// <summary>Where Debian's dataset-fashion-mnist puts its files; the demo seed registers them.</summary>
    public string FashionMnistDirectory { get; set; } = "/usr/share/datasets/fashion-mnist";
    /// <summary>The worker executable; empty: ModelOps.Jobs beside the portal's assembly.</summary>
    public string? WorkerExecutable { get; set; }

    /// <summary>
    /// A PostgreSQL connection string for Hangfire's job store (schema <c>hangfire</c>, sliding invisibility);
    /// empty: the SQLite file <see cref="JobStorePath"/>. The portal's own store stays SQLite either way.
    /// </summary>
    public string? JobStoreConnectionString { get; set; }

    /// <summary>Queue runs but start no worker (maintenance; in-process API tests).</summary>
    public bool PauseDispatch { get; set; }

    public string DataRoot => Path.GetFullPath(DataDirectory);
    public string DatabasePath => Path.Combine(DataRoot, "modelops.db");
    /// <summary>Hangfire's job store: its own SQLite file, so its polling never contends with metric writes.</summary>
    public string JobStorePath => Path.Combine(DataRoot, "jobs.db");
    /// <summary>Quartz's store before the move to Hangfire; removed at start-up (the portal's database holds every queued run).</summary>
    public string LegacySchedulerDatabasePath => Path.Combine(DataRoot, "scheduler.db");

    public string ResolveConnectionString() =>
        string.IsNullOrWhiteSpace(ConnectionString)
            ? $"Data Source={DatabasePath};Default Timeout=30;Pooling=True"
            : ConnectionString;
}
