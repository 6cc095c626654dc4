using ModelOps.Engine.Data;
using ModelOps.Engine.Training;
using Xunit.Abstractions;

namespace ModelOps.Engine.Tests;

/// <summary>k-fold cross-validation: folds over the training and validation rows, their figures, and the refit that is registered.</summary>
public class CrossValidationTests(ITestOutputHelper output)
{
    private static readonly TrainingOptions Quick = new()
    {
        HiddenLayers = [16], Epochs = 3, BatchSize = 32, LearningRate = 0.01, Device = "cpu", Seed = 13, CrossValidationFolds = 5,
    };

    private sealed class FoldObserver : ITrainingObserver
    {
        public RecordingObserver Inner { get; } = new();
        public List<FoldResult> Folds { get; } = [];
        public void OnProgress(TrainingProgress progress) => Inner.OnProgress(progress);
        public void OnEpochEnd(EpochMetrics metrics) => Inner.OnEpochEnd(metrics);
        public void OnCheckpoint(string checkpointPath, int epoch) => Inner.OnCheckpoint(checkpointPath, epoch);
        public void OnFold(FoldResult fold) => Folds.Add(fold);
    }

    // Four noise columns make the folds differ a little, so their spread means something.
    private static DatasetFiles Blobs(string dir) => new() { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir, n: 300, noiseColumns: 4), LabelColumn = "species" };

    [Fact]
    public void FiveFolds_PartitionThePool_AndTheRegisteredModelIsRefitOnAllOfIt()
    {
        using var dir = new TempDirectory();
        var observer = new FoldObserver();

        var result = Trainer.Train(Quick, Blobs(dir.Path), dir.Path, observer, null, CancellationToken.None);

        // 300 rows: 60 test, 30 validation, 210 training; the folds share out the 240 pooled rows.
        var cv = result.CrossValidation!;
        Assert.Equal(5, cv.K);
        Assert.Equal([1, 2, 3, 4, 5], cv.Folds.Select(f => f.Fold));
        Assert.Equal(cv.Folds, observer.Folds);
        Assert.Equal(240, cv.Folds.Sum(f => f.HeldOutSamples));
        Assert.All(cv.Folds, f => Assert.Equal(48, f.HeldOutSamples));
        Assert.All(cv.Folds, f => Assert.Equal(240 - f.HeldOutSamples, f.TrainSamples));
        Assert.All(cv.Folds, f => Assert.Equal(3, f.Epochs));
        foreach (var name in new[] { "accuracy", "f1_macro", "loss" })
        {
            var values = cv.Folds.Select(f => f.Metrics[name]).ToArray();
            double mean = values.Average();
            Assert.Equal(mean, cv.Mean[name], 12);
            Assert.Equal(Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)), cv.Std[name], 12);
        }
        output.WriteLine($"5 folds of 48: accuracy {string.Join(", ", cv.Folds.Select(f => f.Metrics["accuracy"].ToString("F3")))}; "
            + $"mean {cv.Mean["accuracy"]:F3} ± {cv.Std["accuracy"]:F3}, loss {cv.Mean["loss"]:F3} ± {cv.Std["loss"]:F3}; refit test accuracy {result.Evaluation.Accuracy:F3}");
        Assert.InRange(cv.Mean["accuracy"], 0.9, 1);

        // The refit: the run's epochs over all 240 rows (8 batches of 32, where a fold has 192 rows in 6),
        // nothing held out for validation, and the only fit that checkpoints and reports epochs.
        Assert.Equal(3, cv.RefitEpochs);
        Assert.Equal([1, 2, 3], result.History.Select(e => e.Epoch));
        Assert.All(result.History, e => Assert.True(double.IsNaN(e.ValidationLoss)));
        Assert.Equal(3, observer.Inner.Checkpoints.Count);
        Assert.Equal(5 * 3 * 6 + 3 * 8, observer.Inner.Progress.Where(p => p.Batch == p.BatchesPerEpoch).Sum(p => p.BatchesPerEpoch));
        Assert.All(observer.Inner.Progress.TakeLast(3), p => Assert.Equal(8, p.BatchesPerEpoch));
        Assert.Equal(60, result.Evaluation.Samples);
        var fractions = observer.Inner.Progress.Select(p => p.Fraction).ToArray();
        Assert.True(fractions.Zip(fractions.Skip(1)).All(p => p.First <= p.Second), "progress never goes back");
        Assert.Equal(1.0, fractions[^1], 9);
    }

    [Fact]
    public void WithEarlyStopping_TheRefitTrainsForTheFoldsMeanBestEpoch()
    {
        using var dir = new TempDirectory();
        // A rate this high makes the validation loss bounce, so patience 1 stops every fold early.
        var options = Quick with { Epochs = 40, LearningRate = 0.5, Optimizer = "sgd", EarlyStoppingPatience = 1 };

        var result = Trainer.Train(options, Blobs(dir.Path), dir.Path, NullTrainingObserver.Instance, null, CancellationToken.None);

        var cv = result.CrossValidation!;
        Assert.All(cv.Folds, f => Assert.True(f.Epochs < 40, $"fold {f.Fold} ran all 40 epochs"));
        // Patience 1: a fold stops one epoch after its best.
        int expected = Math.Max(1, (int)Math.Round(cv.Folds.Average(f => f.Epochs - 1)));
        output.WriteLine($"folds stopped after {string.Join(", ", cv.Folds.Select(f => f.Epochs))} epochs; refit {cv.RefitEpochs}");
        Assert.Equal(expected, cv.RefitEpochs);
        Assert.Equal(cv.RefitEpochs, result.EpochsCompleted);
        Assert.Equal(cv.RefitEpochs, result.History.Count);
    }

    [Fact]
    public void ResumedDuringTheRefit_DoesNotRepeatTheFolds()
    {
        using var dir = new TempDirectory();
        var data = Blobs(dir.Path);
        var full = Trainer.Train(Quick, data, Path.Combine(dir.Path, "full"), NullTrainingObserver.Instance, null, CancellationToken.None);

        using var cts = new CancellationTokenSource();
        var first = new RecordingObserver { AfterEpoch = e => { if (e == 1) cts.Cancel(); } };
        Assert.ThrowsAny<OperationCanceledException>(() => Trainer.Train(Quick, data, Path.Combine(dir.Path, "a"), first, null, cts.Token));
        var second = new FoldObserver();
        var resumed = Trainer.Train(Quick, data, Path.Combine(dir.Path, "b"), second, first.Checkpoints[^1].Path, CancellationToken.None);

        Assert.Empty(second.Folds);
        Assert.Equal(full.CrossValidation!.Folds.Select(f => f.Metrics["accuracy"]), resumed.CrossValidation!.Folds.Select(f => f.Metrics["accuracy"]));
        Assert.Equal(full.History.Select(e => e.TrainLoss), resumed.History.Select(e => e.TrainLoss));
    }

    [Fact]
    public void ForRegression_TheFoldsReportErrorsNotAccuracy()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteRegressionCsv(dir.Path, n: 200), LabelColumn = "y" };
        var options = Quick with { Task = "regression", CrossValidationFolds = 3, Epochs = 2, BatchNorm = false, Dropout = 0 };

        var result = Trainer.Train(options, data, dir.Path, NullTrainingObserver.Instance, null, CancellationToken.None);

        var cv = result.CrossValidation!;
        Assert.Equal(160, cv.Folds.Sum(f => f.HeldOutSamples));
        Assert.Equal(["loss", "mae", "mse", "r2"], cv.Mean.Keys.Order());
        Assert.All(cv.Folds, f => Assert.True(f.Metrics["mse"] > 0));
    }

    [Fact]
    public void Folds_AreAStratifiedPartition_DealtBySeed()
    {
        // 100 samples: 47 of class 0, 31 of class 1, 22 of class 2, in no order.
        var order = DataSplit.Permutation(100, 3);
        var classes = new long[100];
        for (int i = 0; i < 100; i++) classes[order[i]] = i < 47 ? 0 : i < 78 ? 1 : 2;

        var folds = Folds.Assign(100, 5, seed: 21, classes);

        Assert.Equal(Enumerable.Range(0, 100), folds.SelectMany(f => f).Order());
        Assert.All(folds, f => Assert.InRange(f.Length, 20, 20));
        foreach (var (c, count) in new[] { (0L, 47), (1L, 31), (2L, 22) })
            Assert.All(folds, f => Assert.InRange(f.Count(i => classes[i] == c), Math.Floor(count / 5.0), Math.Ceiling(count / 5.0)));
        Assert.Equal(folds, Folds.Assign(100, 5, seed: 21, classes));
        Assert.NotEqual(folds, Folds.Assign(100, 5, seed: 22, classes));
        // Without classes (regression) the sizes still differ by one at most.
        Assert.All(Folds.Assign(23, 4, seed: 1), f => Assert.InRange(f.Length, 5, 6));
        Assert.Throws<DatasetFormatException>(() => Folds.Assign(3, 5, seed: 1));
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(10, true)]
    [InlineData(11, false)]
    [InlineData(-3, false)]
    public void Validate_FoldsAreOffOrTwoToTen(int k, bool valid)
    {
        var errors = new TrainingOptions { CrossValidationFolds = k }.Validate();
        Assert.Equal(valid, !errors.Contains("CrossValidationFolds must be 0 (off) or from 2 to 10"));
        Assert.Equal(valid, errors.Count == 0);
    }
}
