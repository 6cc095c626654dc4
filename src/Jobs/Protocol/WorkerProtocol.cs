namespace ModelOps.Jobs.Protocol;

// The REST protocol between a worker and the portal (docs/worker-protocol.md). The worker never
// opens the database; an external training script or a remote agent speaks the same protocol.
// All routes are under /api/v1 and take "Authorization: Bearer <per-attempt token>".

/// <summary>
/// GET runs/{id}/spec: what to train. <paramref name="Options"/> is every template and hyperparameter
/// choice of the run (camelCase JSON); <paramref name="Device"/> is the device to train on, already
/// resolved from the run's choice and the portal's configuration, and wins over Options.Device.
/// <paramref name="ParentModel"/> is set when the run fine-tunes a registered model version; the worker
/// downloads its package from GET runs/{id}/parent-model. <paramref name="StartedAt"/> is when the run's first
/// attempt started (UTC): system metrics count their step in seconds from it, so a resumed attempt continues
/// the curves instead of drawing over them.
/// </summary>
public sealed record RunSpec(
    int RunId, int Attempt, ModelOps.Engine.Training.TrainingOptions Options, DatasetSpec Dataset,
    int ResumeFromEpoch, string Device, ParentModelSpec? ParentModel = null, DateTime? StartedAt = null);

/// <summary>The registered model version a run fine-tunes: its name, version and package size.</summary>
public sealed record ParentModelSpec(string Name, int Version, long SizeBytes);

/// <summary>Kind is csv, idx or text; a text dataset names the column holding the documents in <paramref name="TextColumn"/>.</summary>
public sealed record DatasetSpec(
    int DatasetId, int Version, string Kind, string? LabelColumn,
    IReadOnlyList<DatasetFileSpec> Files, IReadOnlyList<string>? ClassNames, string? TextColumn = null);

/// <summary>One file of a dataset version; GET datasets/{id}/versions/{v}/files/{Name} downloads it.</summary>
public sealed record DatasetFileSpec(string Name, long SizeBytes);

/// <summary>POST runs/{id}/start.</summary>
public sealed record StartReport(int Attempt, int ProcessId, string Device);

/// <summary>
/// POST runs/{id}/log-batch, the tracking API that any client uses (docs/tracking.md): at most
/// 1,000 metrics, 100 params and 100 tags, written all or nothing.
/// </summary>
public sealed record LogBatch(
    IReadOnlyList<MetricPoint>? Metrics = null,
    IReadOnlyList<KeyValue>? Params = null,
    IReadOnlyList<KeyValue>? Tags = null);

/// <summary>A metric point; <paramref name="Timestamp"/> is milliseconds since the Unix epoch (default: now).</summary>
public sealed record MetricPoint(string Key, double Value, long? Step = null, long? Timestamp = null);

/// <summary>A param or tag. The value may be sent as a JSON string, number or boolean; it is stored as text.</summary>
public sealed record KeyValue(string Key, System.Text.Json.JsonElement Value);

/// <summary>
/// POST runs/{id}/heartbeat. <paramref name="Compute"/> is what this attempt has used so far (cumulative), so a
/// worker that is killed leaves its use up to its last heartbeat on the run.
/// </summary>
public sealed record Heartbeat(double Progress, int Epoch, int Epochs, string? Message, ComputeUsage? Compute = null);

/// <summary>
/// The compute one attempt used so far, cumulative since the worker process started: <paramref name="GpuSeconds"/>
/// is the wall time it trained on a CUDA device (0 on the CPU), <paramref name="CpuCoreSeconds"/> the process's
/// total CPU time (user + system, all threads). The portal keeps an attempt's last report and adds earlier attempts'.
/// </summary>
public sealed record ComputeUsage(double GpuSeconds, double CpuCoreSeconds);

public sealed record HeartbeatReply(bool CancelRequested);

/// <summary>
/// POST runs/{id}/finish. <paramref name="CrossValidation"/> is set when the run cross-validated: the folds
/// and each metric's mean and deviation; the model package is then the refit on all training rows.
/// <paramref name="Compute"/> is the attempt's final compute use (see <see cref="ComputeUsage"/>).
/// </summary>
public sealed record FinishReport(string Status, string? Error, EvaluationReportDto? Evaluation, CrossValidationDto? CrossValidation = null,
    ComputeUsage? Compute = null);

/// <summary>k-fold cross-validation as the protocol carries it: figures that could not be computed are left out (JSON has no NaN).</summary>
public sealed record CrossValidationDto(
    int K, IReadOnlyList<FoldDto> Folds, IReadOnlyDictionary<string, double> Mean, IReadOnlyDictionary<string, double> Std, int RefitEpochs);

/// <summary>One fold: trained on the other folds for <paramref name="Epochs"/> epochs, scored on this one.</summary>
public sealed record FoldDto(int Fold, int TrainSamples, int HeldOutSamples, int Epochs, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// The test-split figures. A figure that does not apply (accuracy of a regression, ROC AUC of more than
/// two classes) or could not be computed is null: JSON has no NaN. Regression runs send an empty matrix.
/// </summary>
public sealed record EvaluationReportDto(
    double? Accuracy, double? PrecisionMacro, double? RecallMacro, double? F1Macro,
    int[][] ConfusionMatrix, string[] ClassNames, int Samples,
    string Task = "classification",
    double? PrecisionWeighted = null, double? RecallWeighted = null, double? F1Weighted = null,
    double? RocAuc = null, double? Mse = null, double? Mae = null, double? R2 = null);

public static class FinishStatus
{
    public const string Finished = "Finished";
    public const string Failed = "Failed";
    public const string Cancelled = "Cancelled";
}

/// <summary>
/// The files a worker may PUT/GET as runs/{id}/{name} (checkpoint, model); GET runs/{id}/parent-model serves
/// the package of the model version the run fine-tunes. Other files (model.pt, the PyTorch state dict) go
/// through the tracking API's artifacts.
/// </summary>
public static class WorkerArtifacts
{
    public const string Checkpoint = "checkpoint";
    public const string Model = "model";
    public const string ParentModel = "parent-model";
    /// <summary>The PyTorch state dict, uploaded as the run artifact of this path.</summary>
    public const string PyTorchStateDict = "model.pt";

    public static bool IsKnown(string name) => name is Checkpoint or Model;
}
