using ModelOps.Engine.Data;
using ModelOps.Engine.Models;
using ModelOps.Engine.Training;

namespace ModelOps.Engine.Tests;

public class TrainerTests
{
    private static readonly TrainingOptions QuickMlp = new()
    {
        Template = "mlp", Epochs = 4, BatchSize = 32, LearningRate = 0.01, Device = "cpu", Seed = 11,
    };

    private static DatasetFiles Csv(string path) => new() { Kind = "csv", CsvPath = path, LabelColumn = "species" };

    [Fact]
    public void Train_OnGeneratedCsv_ReachesHighTestAccuracyAndWritesPackage()
    {
        using var dir = new TempDirectory();
        var observer = new RecordingObserver();

        var result = Trainer.Train(QuickMlp, Csv(TestData.WriteBlobsCsv(dir.Path)), dir.Path, observer, null, CancellationToken.None);

        Assert.True(result.Evaluation.Accuracy > 0.95, $"accuracy {result.Evaluation.Accuracy}");
        Assert.Equal(120, result.Evaluation.Samples); // 20% of 600
        Assert.Equal(TestData.Classes, result.Evaluation.ClassNames);
        Assert.Equal(120, result.Evaluation.ConfusionMatrix.Sum(r => r.Sum()));
        Assert.InRange(result.Evaluation.F1Macro, 0.9, 1.0);
        Assert.Equal(4, result.EpochsCompleted);
        Assert.True(File.Exists(result.ModelPackagePath));
        Assert.Equal([1, 2, 3, 4], observer.Epochs.Select(e => e.Epoch));
        Assert.Equal(4, observer.Checkpoints.Count);
        Assert.All(observer.Checkpoints, c => Assert.True(File.Exists(c.Path)));
        Assert.NotEmpty(observer.Progress);
        Assert.Equal(1.0, observer.Progress[^1].Fraction, 6);
    }

    [Fact]
    public void Train_ResumedFromCheckpoint_RunsOnlyRemainingEpochsAndMatchesUninterruptedRun()
    {
        using var dir = new TempDirectory();
        string csv = TestData.WriteBlobsCsv(dir.Path);
        // Dropout, a schedule, AdamW and clipping: every piece of state a resume has to bring back.
        var options = QuickMlp with
        {
            Optimizer = "adamw", WeightDecay = 0.01, Schedule = "onecycle", Dropout = 0.3, GradClipNorm = 1.0, LabelSmoothing = 0.1,
        };
        var full = Trainer.Train(options, Csv(csv), Path.Combine(dir.Path, "full"), new RecordingObserver(), null, CancellationToken.None);

        using var cts = new CancellationTokenSource();
        var first = new RecordingObserver { AfterEpoch = e => { if (e == 2) cts.Cancel(); } };
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Trainer.Train(options, Csv(csv), Path.Combine(dir.Path, "a"), first, null, cts.Token));
        Assert.Equal(2, first.Checkpoints[^1].Epoch);

        var second = new RecordingObserver();
        var resumed = Trainer.Train(options, Csv(csv), Path.Combine(dir.Path, "b"), second, first.Checkpoints[^1].Path, CancellationToken.None);

        Assert.Equal(4, resumed.EpochsCompleted);
        Assert.Equal([3, 4], second.Epochs.Select(e => e.Epoch));
        Assert.Equal([1, 2, 3, 4], resumed.History.Select(e => e.Epoch));
        // Same optimizer moments, schedule position and random state: the curve is the same to the bit.
        Assert.Equal(full.History.Select(e => e.TrainLoss), resumed.History.Select(e => e.TrainLoss));
        Assert.Equal(full.History.Select(e => e.ValidationLoss), resumed.History.Select(e => e.ValidationLoss));
        Assert.Equal(full.History.Select(e => e.LearningRate), resumed.History.Select(e => e.LearningRate));
        Assert.Equal(full.Evaluation.Accuracy, resumed.Evaluation.Accuracy);
    }

    [Fact]
    public void Train_ResumedWithEarlyStopping_StopsAtTheSameEpochAndRegistersTheSameBestWeights()
    {
        using var dir = new TempDirectory();
        string csv = TestData.WriteBlobsCsv(dir.Path);
        // A rate this high makes the validation loss bounce, so the best epoch is not the last.
        var options = QuickMlp with { Epochs = 30, Optimizer = "sgd", LearningRate = 0.5, EarlyStoppingPatience = 2 };
        var full = Trainer.Train(options, Csv(csv), Path.Combine(dir.Path, "full"), new RecordingObserver(), null, CancellationToken.None);
        Assert.True(full.EpochsCompleted is > 2 and < 30, $"the uninterrupted run stopped after {full.EpochsCompleted} epochs");

        using var cts = new CancellationTokenSource();
        var first = new RecordingObserver { AfterEpoch = e => { if (e == 2) cts.Cancel(); } };
        Assert.ThrowsAny<OperationCanceledException>(() => Trainer.Train(options, Csv(csv), Path.Combine(dir.Path, "a"), first, null, cts.Token));
        var resumed = Trainer.Train(options, Csv(csv), Path.Combine(dir.Path, "b"), new RecordingObserver(), first.Checkpoints[^1].Path, CancellationToken.None);

        Assert.Equal(full.EpochsCompleted, resumed.EpochsCompleted);
        Assert.Equal(full.History.Select(e => e.ValidationLoss), resumed.History.Select(e => e.ValidationLoss));
        Assert.Equal(ModelPackage.Read(full.ModelPackagePath).Weights.Bytes, ModelPackage.Read(resumed.ModelPackagePath).Weights.Bytes);
    }

    [Fact]
    public void Train_WithMissingLabelColumn_ThrowsDatasetFormatExceptionNamingColumns()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path), LabelColumn = "kind" };
        var ex = Assert.Throws<DatasetFormatException>(() =>
            Trainer.Train(QuickMlp, data, dir.Path, new RecordingObserver(), null, CancellationToken.None));
        Assert.Contains("'kind' not found", ex.Message);
        Assert.Contains("x1, x2, color, species", ex.Message);
    }

    [Fact]
    public void Train_WithRaggedCsvRow_ThrowsDatasetFormatExceptionWithLine()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "bad.csv");
        File.WriteAllText(path, "a,b,label\n1,2,x\n3,y\n4,5,y\n");
        var ex = Assert.Throws<DatasetFormatException>(() =>
            Trainer.Train(QuickMlp, new DatasetFiles { Kind = "csv", CsvPath = path, LabelColumn = "label" }, dir.Path,
                new RecordingObserver(), null, CancellationToken.None));
        Assert.Contains("line 3: expected 3 fields, got 2", ex.Message);
    }

    [Fact]
    public void Train_WithAlreadyCancelledToken_ThrowsOperationCanceled()
    {
        using var dir = new TempDirectory();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Trainer.Train(QuickMlp, Csv(TestData.WriteBlobsCsv(dir.Path)), dir.Path, new RecordingObserver(), null, new CancellationToken(true)));
    }

    [Fact]
    public void Train_WithoutValidationSplit_ReportsNaNValidationMetricsAndStillCheckpoints()
    {
        using var dir = new TempDirectory();
        var observer = new RecordingObserver();
        var result = Trainer.Train(QuickMlp with { Epochs = 1, ValidationFraction = 0 }, Csv(TestData.WriteBlobsCsv(dir.Path)), dir.Path,
            observer, null, CancellationToken.None);
        Assert.True(double.IsNaN(observer.Epochs[0].ValidationAccuracy));
        Assert.True(File.Exists(observer.Checkpoints[0].Path));
        Assert.Equal(120, result.Evaluation.Samples);
    }

    [Fact]
    public void CsvTable_QuotedFieldsWithCommasAndQuotes_AreParsed()
    {
        var table = CsvTable.Parse(new StringReader("name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\nplain,\"multi\nline\"\n"));
        Assert.Equal(["name", "note"], table.Header);
        Assert.Equal(["Smith, J", "said \"hi\""], table.Rows[0]);
        Assert.Equal(["plain", "multi\nline"], table.Rows[1]);
    }
}
