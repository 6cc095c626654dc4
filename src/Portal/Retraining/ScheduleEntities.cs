namespace ModelOps.Portal.Retraining;

/// <summary>What a schedule does with the model its run trains (docs/schedules.md).</summary>
public static class GateModes
{
    /// <summary>Register it; promote it to Production only when it beats the Production version on the gate metric by the margin.</summary>
    public const string Promote = "promote";
    /// <summary>Register it and move it to Staging, for a person to approve.</summary>
    public const string Stage = "stage";
    /// <summary>Register it and leave its stage alone.</summary>
    public const string Register = "register";

    public static readonly string[] All = [Promote, Stage, Register];
}

/// <summary>The test figures a gate can compare, named as runs log them; mse and mae are better when lower.</summary>
public static class GateMetrics
{
    public static readonly string[] HigherIsBetter = ["accuracy", "f1_macro", "f1_weighted", "roc_auc", "r2"];
    public static readonly string[] LowerIsBetter = ["mse", "mae"];
    public static readonly string[] All = [.. HigherIsBetter, .. LowerIsBetter];

    public static bool Lower(string metric) => LowerIsBetter.Contains(metric);
}

/// <summary>How a fire of a schedule ended; <see cref="Pending"/> while its run trains.</summary>
public static class FireOutcomes
{
    public const string Pending = "pending";
    /// <summary>Not started: the schedule's previous run was still going and overlap is not allowed.</summary>
    public const string Skipped = "skipped";
    /// <summary>The recipe could not be run (dataset gone, schema changed, options invalid), or the run failed or was cancelled.</summary>
    public const string Failed = "failed";
    public const string Promoted = "promoted";
    public const string Staged = "staged";
    public const string Registered = "registered";
    /// <summary>Registered, but the gate kept the Production version: the candidate was not better by the margin.</summary>
    public const string Kept = "kept";

    public static bool IsEnded(string outcome) => outcome != Pending;
}

/// <summary>What set a schedule off.</summary>
public static class FireTriggers
{
    public const string Cron = "cron";
    public const string DatasetVersion = "dataset";
    public const string Manual = "manual";
}

/// <summary>
/// A recipe (what to train) and when to train it. The recipe: a dataset (its latest version at each
/// fire, or one pinned version), a template or a registered model to fine-tune, the training options,
/// and the registered model the result becomes a version of. The triggers: a cron expression in a
/// time zone (a Hangfire recurring job) and/or every new version of the dataset. The gate decides what
/// the result becomes.
/// </summary>
public sealed class Schedule
{
    public int Id { get; set; }
    /// <summary>The owning team (docs/identity.md); team 1 owns what existed before teams.</summary>
    public int TeamId { get; set; } = Identity.Team.DefaultId;
    public required string Name { get; set; }
    public string? Description { get; set; }

    /// <summary>No foreign key: a schedule outlives its dataset and then fails its fires with that reason.</summary>
    public int DatasetId { get; set; }
    /// <summary>The dataset's name when the recipe was saved, to say which one went.</summary>
    public required string DatasetName { get; set; }
    /// <summary>Null: the latest version at each fire.</summary>
    public int? DatasetVersion { get; set; }
    /// <summary>The registered model to fine-tune; null trains <see cref="Runs.Run.Template"/> from scratch.</summary>
    public string? FineTuneModel { get; set; }
    /// <summary>Null: the fine-tuned model's Production version at each fire, else its latest.</summary>
    public int? FineTuneVersion { get; set; }
    /// <summary>TrainingOptions as camelCase JSON (template, epochs, ..., device).</summary>
    public required string OptionsJson { get; set; }
    public required string TargetModel { get; set; }
    public int ExperimentId { get; set; } = Tracking.Experiment.DefaultId;

    /// <summary>Five fields (minute hour day month weekday) or six with seconds first; null: no timed fires.</summary>
    public string? Cron { get; set; }
    /// <summary>IANA time-zone id the cron expression is read in.</summary>
    public string TimeZone { get; set; } = "UTC";
    public bool OnNewDatasetVersion { get; set; }
    public bool AllowOverlap { get; set; }
    public bool Paused { get; set; }

    public string GateMode { get; set; } = GateModes.Promote;
    public string GateMetric { get; set; } = "accuracy";
    /// <summary>How much better (absolute, in the metric's units) the candidate must be to replace Production.</summary>
    public double GateMargin { get; set; }

    public DateTime CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime UpdatedAt { get; set; }
    public required string UpdatedBy { get; set; }
}

/// <summary>One fire of a schedule: what set it off, the run it queued, and the gate's decision with both figures.</summary>
public sealed class ScheduleFire
{
    public long Id { get; set; }
    public int ScheduleId { get; set; }
    public DateTime FiredAt { get; set; }
    public required string Trigger { get; set; }
    /// <summary>"dataset v4", "by alice", the cron tick: what a reader needs to know why it fired.</summary>
    public string? TriggerDetail { get; set; }
    /// <summary>The Hangfire job that delivered the fire; a second delivery of it finds this row and does nothing.</summary>
    public string? JobId { get; set; }
    public int? RunId { get; set; }
    public string Outcome { get; set; } = FireOutcomes.Pending;
    /// <summary>
    /// The gate's decision, saved with its figures before the stage change: a decide job that dies between the
    /// promotion and the fire's update finishes the same decision when delivered again, not a new one.
    /// </summary>
    public string? Decision { get; set; }
    /// <summary>Why it ended so: the failure, or the gate's reasoning with both figures.</summary>
    public string? Reason { get; set; }
    /// <summary>The same reason as a sentence the page can show in the reader's language (<see cref="FireReason"/>).</summary>
    public string? ReasonJson { get; set; }
    public string? Metric { get; set; }
    public double? CandidateValue { get; set; }
    /// <summary>The Production version's figure on the candidate's test data.</summary>
    public double? ProductionValue { get; set; }
    public int? ProductionVersion { get; set; }
    /// <summary>The version the run's model was registered as.</summary>
    public int? ModelVersion { get; set; }
    public DateTime? DecidedAt { get; set; }
}
