namespace ModelOps.Engine.Training;

/// <summary>What the worker has on disk for one dataset version.</summary>
public sealed record DatasetFiles
{
    public required string Kind { get; init; }          // "csv" | "idx" | "text"
    public string? CsvPath { get; init; }               // csv and text
    public string? LabelColumn { get; init; }           // csv and text
    public string? TextColumn { get; init; }            // text: the column holding the document (default "text")
    public string? TrainImagesPath { get; init; }        // idx, gzipped or raw
    public string? TrainLabelsPath { get; init; }
    public string? TestImagesPath { get; init; }         // optional; when present it is the test split
    public string? TestLabelsPath { get; init; }
    public string[]? ClassNames { get; init; }           // idx: optional names for label ids

    public const string Csv = "csv";
    public const string Idx = "idx";
    /// <summary>A CSV of (label, text) rows; the vocabulary is built on the training split.</summary>
    public const string Text = "text";
}

public sealed record EpochMetrics(int Epoch, double TrainLoss, double ValidationLoss, double ValidationAccuracy, double Seconds)
{
    /// <summary>The learning rate at the end of the epoch (schedules change it).</summary>
    public double LearningRate { get; init; }
}

public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int BatchesPerEpoch, double Fraction, double? RecentTrainLoss, long GlobalStep);

public interface ITrainingObserver
{
    void OnProgress(TrainingProgress progress);          // a few times a second at most
    void OnEpochEnd(EpochMetrics metrics);
    void OnCheckpoint(string checkpointPath, int epoch);  // after each epoch's checkpoint file is written
    /// <summary>A cross-validation fold finished (its model is evaluated on the held-out fold).</summary>
    void OnFold(FoldResult fold) { }
}

/// <summary>An observer that ignores everything.</summary>
public sealed class NullTrainingObserver : ITrainingObserver
{
    public static NullTrainingObserver Instance { get; } = new();
    public void OnProgress(TrainingProgress progress) { }
    public void OnEpochEnd(EpochMetrics metrics) { }
    public void OnCheckpoint(string checkpointPath, int epoch) { }
}

/// <summary>
/// Test-split figures. Classification fills accuracy, macro and weighted precision/recall/F1, the
/// confusion matrix and, for two classes, ROC AUC; regression fills MSE, MAE and R2 and leaves
/// accuracy NaN and the matrix empty.
/// </summary>
public sealed record EvaluationReport(
    double Accuracy, double PrecisionMacro, double RecallMacro, double F1Macro,
    int[][] ConfusionMatrix /* [actual][predicted] */, string[] ClassNames, int Samples)
{
    public string Task { get; init; } = TrainingTasks.Classification;
    public double PrecisionWeighted { get; init; }
    public double RecallWeighted { get; init; }
    public double F1Weighted { get; init; }
    /// <summary>Binary classification only.</summary>
    public double? RocAuc { get; init; }
    public double? Mse { get; init; }
    public double? Mae { get; init; }
    public double? R2 { get; init; }
}

/// <summary>EpochsCompleted counts all epochs of the run, including those done before a resume.</summary>
public sealed record TrainingResult(EvaluationReport Evaluation, string ModelPackagePath, int EpochsCompleted, double Seconds)
{
    public IReadOnlyList<EpochMetrics> History { get; init; } = [];
    /// <summary>Set when the run cross-validated; the package holds the model refitted on all training rows.</summary>
    public CrossValidationReport? CrossValidation { get; init; }
    /// <summary>Fine-tuning: the parameters that did not come from the parent (a new classifier head), and how many layers were frozen.</summary>
    public IReadOnlyList<string> FreshParameters { get; init; } = [];
    public int FrozenLayers { get; init; }
}

/// <summary>
/// One fold of k-fold cross-validation: a model trained on the other folds and scored on this one.
/// Metrics use the names runs log (accuracy, f1_macro, ..., mse, r2) plus loss.
/// </summary>
public sealed record FoldResult(int Fold, int TrainSamples, int HeldOutSamples, int Epochs, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// The folds, and each metric's mean and sample standard deviation (n - 1) across them. The refitted
/// model trains <see cref="RefitEpochs"/> epochs on all training rows: the run's epochs, or with early
/// stopping the folds' mean best epoch.
/// </summary>
public sealed record CrossValidationReport(int K, IReadOnlyList<FoldResult> Folds, IReadOnlyDictionary<string, double> Mean,
    IReadOnlyDictionary<string, double> Std, int RefitEpochs)
{
    public static CrossValidationReport From(IReadOnlyList<FoldResult> folds, int refitEpochs)
    {
        var names = folds.SelectMany(f => f.Metrics.Keys).Distinct().ToArray();
        var mean = new Dictionary<string, double>();
        var std = new Dictionary<string, double>();
        foreach (var name in names)
        {
            var values = folds.Select(f => f.Metrics.TryGetValue(name, out var v) ? v : double.NaN).Where(double.IsFinite).ToArray();
            double m = values.Length == 0 ? double.NaN : values.Average();
            mean[name] = m;
            std[name] = values.Length < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - m) * (v - m)) / (values.Length - 1));
        }
        return new CrossValidationReport(folds.Count, folds, mean, std, refitEpochs);
    }
}
