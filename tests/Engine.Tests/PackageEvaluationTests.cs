using ModelOps.Engine.Data;
using ModelOps.Engine.Training;

namespace ModelOps.Engine.Tests;

/// <summary>
/// Trainer.EvaluatePackage scores a package on the test split another run's options hold out: how a
/// schedule's gate compares Production with a candidate on the candidate's test data.
/// </summary>
public class PackageEvaluationTests
{
    private static readonly TrainingOptions Options = new() { HiddenLayers = [16], Epochs = 4, BatchSize = 32, LearningRate = 0.01, Device = "cpu", Seed = 11, TestFraction = 0.25 };

    [Fact]
    public void A_package_scored_on_its_own_runs_split_gets_the_runs_own_test_figures()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path, n: 400), LabelColumn = "species" };
        var trained = Trainer.Train(Options, data, Path.Combine(dir.Path, "run"), NullTrainingObserver.Instance, null, CancellationToken.None);

        var scored = Trainer.EvaluatePackage(trained.ModelPackagePath, Options, data);

        // Same rows, same encoding, same weights: the trainer's own report, figure for figure.
        Assert.Equal(trained.Evaluation.Samples, scored.Samples);
        Assert.Equal(100, scored.Samples);
        Assert.Equal(trained.Evaluation.Accuracy, scored.Accuracy, 6);
        Assert.Equal(trained.Evaluation.F1Macro, scored.F1Macro, 6);
        Assert.Equal(trained.Evaluation.ConfusionMatrix, scored.ConfusionMatrix);
    }

    [Fact]
    public void A_weaker_package_scores_lower_on_the_stronger_runs_split()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path, n: 400), LabelColumn = "species" };
        var weak = Trainer.Train(Options with { Epochs = 1, LearningRate = 1e-5 }, data, Path.Combine(dir.Path, "weak"), NullTrainingObserver.Instance, null, CancellationToken.None);
        var strong = Trainer.Train(Options, data, Path.Combine(dir.Path, "strong"), NullTrainingObserver.Instance, null, CancellationToken.None);

        var weakOnStrongSplit = Trainer.EvaluatePackage(weak.ModelPackagePath, Options, data);
        Assert.True(weakOnStrongSplit.Accuracy + 0.2 < strong.Evaluation.Accuracy,
            $"weak {weakOnStrongSplit.Accuracy:0.###} vs strong {strong.Evaluation.Accuracy:0.###}");
        Assert.Equal(strong.Evaluation.Samples, weakOnStrongSplit.Samples);
    }

    [Fact]
    public void A_package_that_cannot_read_the_data_says_why()
    {
        using var dir = new TempDirectory();
        var blobs = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path, n: 200), LabelColumn = "species" };
        var trained = Trainer.Train(Options with { Epochs = 1 }, blobs, Path.Combine(dir.Path, "run"), NullTrainingObserver.Instance, null, CancellationToken.None);
        var other = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteRegressionCsv(dir.Path), LabelColumn = "y" };

        var error = Assert.ThrowsAny<Exception>(() => Trainer.EvaluatePackage(trained.ModelPackagePath, Options, other));
        Assert.True(error is DatasetFormatException, error.ToString());
        Assert.Contains("column", error.Message);
    }
}
