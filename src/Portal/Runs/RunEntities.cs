namespace ModelOps.Portal.Runs;

public enum RunStatus
{
    Queued = 0,
    Running = 1,
    Finished = 2,
    Failed = 3,
    Cancelled = 4,
}

public static class RunStatusExtensions
{
    public static bool IsTerminal(this RunStatus status) =>
        status is RunStatus.Finished or RunStatus.Failed or RunStatus.Cancelled;
}

public enum RunKind
{
    /// <summary>Launched by the portal; its status belongs to the scheduler and its worker.</summary>
    Training = 0,
    /// <summary>Reported by a client (the Python client, a notebook); the client sets its status.</summary>
    Tracked = 1,
}

/// <summary>
/// One run. A training run keeps its hyperparameters in typed columns for the worker's spec and also
/// as params (docs/tracking.md), which is what search and the tables read; a tracked run has only params.
/// </summary>
public sealed class Run
{
    public int Id { get; set; }
    public int ExperimentId { get; set; } = Tracking.Experiment.DefaultId;
    public Tracking.Experiment? Experiment { get; set; }
    public RunKind Kind { get; set; }
    public required string Name { get; set; }
    public int? ParentRunId { get; set; }
    public string? Notes { get; set; }
    public DateTime? DeletedAt { get; set; }
    /// <summary>Written with the run at launch; afterwards params are added through <see cref="Tracking.TrackingStore"/>.</summary>
    public List<Tracking.RunParam> Params { get; set; } = [];
    public int? DatasetVersionId { get; set; }
    public Datasets.DatasetVersion? DatasetVersion { get; set; }
    /// <summary>Empty for a tracked run.</summary>
    public required string Template { get; set; }
    public int Epochs { get; set; }
    public int BatchSize { get; set; }
    public double LearningRate { get; set; }
    public required string Optimizer { get; set; }
    public long Seed { get; set; }
    public double ValidationFraction { get; set; }
    public double TestFraction { get; set; }
    public int? MaxTrainSamples { get; set; }
    /// <summary>
    /// The run's full TrainingOptions as camelCase JSON; null for tracked runs and for training runs made
    /// before options were stored (their options are rebuilt from the columns above, see <see cref="RunOptions"/>).
    /// </summary>
    public string? OptionsJson { get; set; }

    public RunStatus Status { get; set; }
    /// <summary>UI, API, schedule, sweep or demo.</summary>
    public required string Source { get; set; }
    /// <summary>Set by the client per form render so a double submit creates one run.</summary>
    public string? IdempotencyKey { get; set; }
    public DateTime CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public DateTime? LastHeartbeatAt { get; set; }

    public double Progress { get; set; }
    public int CurrentEpoch { get; set; }
    public int Attempt { get; set; }
    public string? Device { get; set; }
    public string? StatusMessage { get; set; }
    public string? Error { get; set; }
    public bool CancelRequested { get; set; }
    /// <summary>SHA-256 of the per-attempt worker token; the token itself is never stored.</summary>
    public string? WorkerTokenHash { get; set; }
    public int? WorkerProcessId { get; set; }
    /// <summary>The Hangfire job that delivers the run's current attempt (null for tracked runs).</summary>
    public string? JobId { get; set; }
    /// <summary>The slot queue the run waits in: <c>gpu</c> or <c>cpu</c>.</summary>
    public string? Queue { get; set; }

    /// <summary>Last epoch whose checkpoint the portal holds; resume starts after it.</summary>
    public int CheckpointEpoch { get; set; }
    public bool HasModel { get; set; }

    /// <summary>The registered model version this run fine-tunes; null when it trains from scratch.</summary>
    public int? ParentModelVersionId { get; set; }
    public Registry.ModelVersion? ParentModelVersion { get; set; }
    /// <summary>k-fold cross-validation as reported at finish (folds, mean, std, refit epochs), camelCase JSON.</summary>
    public string? CrossValidationJson { get; set; }

    public double? TestAccuracy { get; set; }
    public double? TestF1Macro { get; set; }
    /// <summary>Serialized evaluation report (precision, recall, confusion matrix, class names).</summary>
    public string? EvaluationJson { get; set; }

    // compute cost (docs/cost.md): totals over all attempts; null until a worker reports (tracked runs, runs from before)
    /// <summary>Wall seconds trained on a CUDA device, all attempts.</summary>
    public double? GpuSeconds { get; set; }
    /// <summary>The worker processes' CPU time (user + system, all threads), all attempts.</summary>
    public double? CpuCoreSeconds { get; set; }
    /// <summary>The attempt whose last report is in the totals; the attempts before it are in the Prior figures.</summary>
    public int ComputeAttempt { get; set; }
    public double PriorGpuSeconds { get; set; }
    public double PriorCpuCoreSeconds { get; set; }
}
