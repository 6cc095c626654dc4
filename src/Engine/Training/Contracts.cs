namespace ModelOps.Engine.Training;

public sealed record TrainingOptions
{
    public string Template { get; init; } = "mlp";      // "mlp" (tabular or images) | "cnn" (images)
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public string Optimizer { get; init; } = "adam";    // "adam" | "sgd" (momentum 0.9)
    public long Seed { get; init; } = 42;
    public double ValidationFraction { get; init; } = 0.1;
    public double TestFraction { get; init; } = 0.2;    // ignored when the dataset has its own test files
    public string Device { get; init; } = "auto";       // "auto" | "cpu" | "cuda"
    public int? MaxTrainSamples { get; init; }          // optional cap, for quick runs and tests
}

/// <summary>What the worker has on disk for one dataset version.</summary>
public sealed record DatasetFiles
{
    public required string Kind { get; init; }          // "csv" | "idx"
    public string? CsvPath { get; init; }
    public string? LabelColumn { get; init; }
    public string? TrainImagesPath { get; init; }        // idx, gzipped or raw
    public string? TrainLabelsPath { get; init; }
    public string? TestImagesPath { get; init; }         // optional; when present it is the test split
    public string? TestLabelsPath { get; init; }
    public string[]? ClassNames { get; init; }           // idx: optional names for label ids

    public const string Csv = "csv";
    public const string Idx = "idx";
}

public sealed record EpochMetrics(int Epoch, double TrainLoss, double ValidationLoss, double ValidationAccuracy, double Seconds);

public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int BatchesPerEpoch, double Fraction, double? RecentTrainLoss, long GlobalStep);

public interface ITrainingObserver
{
    void OnProgress(TrainingProgress progress);          // a few times a second at most
    void OnEpochEnd(EpochMetrics metrics);
    void OnCheckpoint(string checkpointPath, int epoch);  // after each epoch's checkpoint file is written
}

/// <summary>An observer that ignores everything.</summary>
public sealed class NullTrainingObserver : ITrainingObserver
{
    public static NullTrainingObserver Instance { get; } = new();
    public void OnProgress(TrainingProgress progress) { }
    public void OnEpochEnd(EpochMetrics metrics) { }
    public void OnCheckpoint(string checkpointPath, int epoch) { }
}

public sealed record EvaluationReport(
    double Accuracy, double PrecisionMacro, double RecallMacro, double F1Macro,
    int[][] ConfusionMatrix /* [actual][predicted] */, string[] ClassNames, int Samples);

/// <summary>EpochsCompleted counts all epochs of the run, including those done before a resume.</summary>
public sealed record TrainingResult(EvaluationReport Evaluation, string ModelPackagePath, int EpochsCompleted, double Seconds)
{
    public IReadOnlyList<EpochMetrics> History { get; init; } = [];
}
