namespace ModelOps.Portal.Infrastructure;

/// <summary>The "ModelOps" section of appsettings.json (repository root).</summary>
public sealed class PortalOptions
{
    public const string Section = "ModelOps";

    /// <summary>Everything the portal writes lives here. Relative paths are resolved against the working directory.</summary>
    public string DataDirectory { get; set; } = "data";
    /// <summary>Empty: an SQLite file "modelops.db" in the data folder.</summary>
    public string? ConnectionString { get; set; }
    /// <summary>
    /// When true, every /api/v1 call must carry an API token or a worker token. False by default while the
    /// portal has no sign-in and listens on loopback only (docs/tracking.md).
    /// </summary>
    public bool RequireApiToken { get; set; }
    /// <summary>Concurrent training workers on this machine.</summary>
    public int WorkerSlots { get; set; } = 1;
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

    /// <summary>Queue runs but start no worker (maintenance; in-process API tests).</summary>
    public bool PauseDispatch { get; set; }

    public string DataRoot => Path.GetFullPath(DataDirectory);
    public string DatabasePath => Path.Combine(DataRoot, "modelops.db");
    public string SchedulerDatabasePath => Path.Combine(DataRoot, "scheduler.db");

    public string ResolveConnectionString() =>
        string.IsNullOrWhiteSpace(ConnectionString)
            ? $"Data Source={DatabasePath};Default Timeout=30;Pooling=True"
            : ConnectionString;
}
