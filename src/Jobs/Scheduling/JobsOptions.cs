namespace ModelOps.Jobs.Scheduling;

public sealed class JobsOptions
{
    /// <summary>Path of the SQLite file that holds Quartz's job store.</summary>
    public required string SchedulerDatabasePath { get; init; }
    /// <summary>Worker processes at once (one per GPU, or CPU slots).</summary>
    public int WorkerSlots { get; init; } = 1;
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
