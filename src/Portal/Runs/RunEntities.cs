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

/// <summary>One training run. Hyperparameters are columns so the experiments table can sort on them.</summary>
public sealed class Run
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public int DatasetVersionId { get; set; }
    public Datasets.DatasetVersion? DatasetVersion { get; set; }
    public required string Template { get; set; }
    public int Epochs { get; set; }
    public int BatchSize { get; set; }
    public double LearningRate { get; set; }
    public required string Optimizer { get; set; }
    public long Seed { get; set; }
    public double ValidationFraction { get; set; }
    public double TestFraction { get; set; }
    public int? MaxTrainSamples { get; set; }

    public RunStatus Status { get; set; }
    /// <summary>UI, API, schedule or demo.</summary>
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

    /// <summary>Last epoch whose checkpoint the portal holds; resume starts after it.</summary>
    public int CheckpointEpoch { get; set; }
    public bool HasModel { get; set; }

    public double? TestAccuracy { get; set; }
    public double? TestF1Macro { get; set; }
    /// <summary>Serialized evaluation report (precision, recall, confusion matrix, class names).</summary>
    public string? EvaluationJson { get; set; }
}

/// <summary>Append-only metric point, MLflow-style.</summary>
public sealed class Metric
{
    public long Id { get; set; }
    public int RunId { get; set; }
    public required string Key { get; set; }
    public long Step { get; set; }
    public double Value { get; set; }
    public DateTime Timestamp { get; set; }
}
