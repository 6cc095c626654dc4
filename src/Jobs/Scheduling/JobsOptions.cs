namespace ModelOps.Jobs.Scheduling;

public sealed class JobsOptions
{
    /// <summary>Path of the SQLite file that holds Hangfire's job store (the portal process is its only server).</summary>
    public required string JobStorePath { get; init; }
    /// <summary>
    /// A PostgreSQL connection string: the job store is then Hangfire.PostgreSql (schema <c>hangfire</c>)
    /// with sliding invisibility instead of the SQLite file. Null or empty: SQLite.
    /// </summary>
    public string? PostgreSqlConnectionString { get; init; }
    /// <summary>Training workers at once on the CPU queue.</summary>
    public int CpuSlots { get; init; } = 1;
    /// <summary>
    /// Training workers at once on the GPU queue: one per GPU. Null: the number of CUDA devices the
    /// engine sees (<see cref="SlotQueues.CountGpus"/>); 0: no GPU queue, every run trains on the CPU queue.
    /// </summary>
    public int? GpuSlots { get; init; }
    /// <summary>
    /// How often an idle Hangfire worker asks the SQLite store for a job. Hangfire's default (15 s)
    /// made a queued run wait 8 s on median; 100 ms gives a p95 pickup under 250 ms (benchmarks/jobs).
    /// </summary>
    public TimeSpan QueuePollInterval { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>
    /// When Hangfire's SQLite store hands a fetched job out again. It does not slide, so a run longer
    /// than this is delivered a second time while it trains; the run's lease (the heartbeat in the
    /// portal's database) makes that copy a no-op, and a dead run is recovered by the lease, not by this.
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; init; } = TimeSpan.FromHours(2);
    /// <summary>The ModelOps.Jobs executable.</summary>
    public required string WorkerExecutable { get; init; }
    /// <summary>Base URL the worker uses to reach the portal's API.</summary>
    public required Func<string> PortalUrl { get; init; }
    /// <summary>Parent folder of per-run worker folders (dataset cache, checkpoints in progress).</summary>
    public required string WorkRoot { get; init; }
    /// <summary>
    /// Keep the queue but start nothing (maintenance, or an in-process test host that no worker
    /// process can call back). Jobs stay in the persistent store until dispatch resumes.
    /// </summary>
    public bool PauseDispatch { get; init; }
    /// <summary>libtorch intra-op threads per worker (measured: 2 threads train the CNN ~1.25x faster than 1 on 2 cores).</summary>
    public int ThreadsPerWorker { get; init; } = 1;
    /// <summary>
    /// A CUDA LibTorch 2.10 folder for the workers (ModelOps:LibTorchDirectory), passed to each as
    /// <c>MODELOPS_LIBTORCH_DIR</c>; empty: the workers use the CPU LibTorch of the TorchSharp package.
    /// </summary>
    public string? LibTorchDirectory { get; init; }
    /// <summary>After a cancel, how long the worker gets to stop by itself before it is killed.</summary>
    public TimeSpan CancelGrace { get; init; } = TimeSpan.FromSeconds(3);
}
