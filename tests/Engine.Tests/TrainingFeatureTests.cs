using System.IO.Compression;
using ModelOps.Engine.Data;
using ModelOps.Engine.Models;
using ModelOps.Engine.Training;
using Xunit.Abstractions;

namespace ModelOps.Engine.Tests;

/// <summary>The templates, data policies, schedules and checkpoints the trainer offers, each trained for real on small generated data.</summary>
public class TrainingFeatureTests(ITestOutputHelper output)
{
    private static TrainingOptions Quick(string template) => new()
    {
        Template = template, Epochs = 6, BatchSize = 32, LearningRate = 0.01, Device = "cpu", Seed = 21,
    };

    [Fact]
    public void Regression_Mlp_FitsALinearTargetAndPredictsOnTheLabelScale()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteRegressionCsv(dir.Path), LabelColumn = "y" };
        var options = Quick("mlp") with { Task = "regression", Epochs = 30, HiddenLayers = [32], Dropout = 0, BatchNorm = false };

        var result = Trainer.Train(options, data, dir.Path, new RecordingObserver(), null, CancellationToken.None);

        Assert.Equal("regression", result.Evaluation.Task);
        Assert.True(result.Evaluation.R2 > 0.95, $"R2 {result.Evaluation.R2}");
        Assert.True(result.Evaluation.Mae < 0.5, $"MAE {result.Evaluation.Mae}");
        Assert.True(double.IsNaN(result.Evaluation.Accuracy));
        using var predictor = Predictor.Load(result.ModelPackagePath);
        var p = Assert.Single(predictor.PredictTabular([[1.0, 0.0, "a"]]));
        Assert.Equal(-1, p.ClassIndex);
        Assert.InRange(p.Value!.Value, 2.0, 4.0); // 3 * 1 - 2 * 0
    }

    [Fact]
    public void Regression_OnATextLabel_SaysTheLabelMustBeNumeric()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path), LabelColumn = "species" };
        var ex = Assert.Throws<DatasetFormatException>(() =>
            Trainer.Train(Quick("mlp") with { Task = "regression" }, data, dir.Path, new RecordingObserver(), null, CancellationToken.None));
        Assert.Contains("not a number", ex.Message);
    }

    [Theory]
    [InlineData("text-lstm")]
    [InlineData("text-cnn")]
    [InlineData("text-transformer")]
    public void TextClassifier_LearnsSentimentWordsAndPredictsNewText(string template)
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "text", CsvPath = TestData.WriteReviewsCsv(dir.Path), LabelColumn = "label", TextColumn = "text" };
        var options = Quick(template) with { Epochs = 5, EmbeddingDim = 16, HiddenSize = 16, MaxTokens = 24, LearningRate = 0.005, Dropout = 0 };

        var result = Trainer.Train(options, data, dir.Path, new RecordingObserver(), null, CancellationToken.None);

        output.WriteLine($"{template}: test accuracy {result.Evaluation.Accuracy:F3}, ROC AUC {result.Evaluation.RocAuc:F3} ({result.Evaluation.Samples} reviews)");
        Assert.True(result.Evaluation.Accuracy > 0.9, $"{template} accuracy {result.Evaluation.Accuracy}");
        Assert.NotNull(result.Evaluation.RocAuc);
        using var predictor = Predictor.Load(result.ModelPackagePath);
        Assert.Equal(["neg", "pos"], predictor.Schema.ClassNames);
        var predictions = predictor.PredictText(["a wonderful and brilliant story", "an awful boring mess, I hated it"]);
        Assert.Equal(["pos", "neg"], predictions.Select(p => p.Label));
        // Nothing to read: an empty text is all padding, an unknown one all <unk>; both still get a distribution.
        Assert.All(predictor.PredictText(["", "zzz qqq xyzzy"]), p =>
        {
            Assert.All(p.Probabilities.Values, v => Assert.True(double.IsFinite(v), $"probability {v}"));
            Assert.Equal(1.0, p.Probabilities.Values.Sum(), 4);
        });
        Assert.Throws<InvalidModelInputException>(() => predictor.PredictTabular([[1.0]]));
    }

    [Fact]
    public void Cnn_OnFourDimensionalColourIdx_ReadsTheChannels()
    {
        using var dir = new TempDirectory();
        var (images, labels) = TestData.WriteColourIdx(dir.Path);
        var data = new DatasetFiles { Kind = "idx", TrainImagesPath = images, TrainLabelsPath = labels };
        var options = Quick("cnn") with { Epochs = 3, ConvBlocks = 2, ConvWidth = 8, Dropout = 0.1 };

        var result = Trainer.Train(options, data, dir.Path, new RecordingObserver(), null, CancellationToken.None);

        Assert.True(result.Evaluation.Accuracy > 0.95, $"accuracy {result.Evaluation.Accuracy}");
        using var predictor = Predictor.Load(result.ModelPackagePath);
        Assert.Equal([3, 32, 32], predictor.Schema.ImageShape!);
        var blue = Enumerable.Range(0, 3 * 32 * 32).Select(i => i / 1024 == 2 ? 200f : 60f).ToArray();
        Assert.Equal("1", Assert.Single(predictor.PredictImages([blue])).Label);
    }

    [Fact]
    public void Cnn_WithMoreBlocksThanTheImageAllows_SaysSo()
    {
        using var dir = new TempDirectory();
        var (images, labels) = TestData.WriteColourIdx(dir.Path, n: 20, size: 8);
        var data = new DatasetFiles { Kind = "idx", TrainImagesPath = images, TrainLabelsPath = labels };
        var ex = Assert.Throws<ArgumentException>(() =>
            Trainer.Train(Quick("cnn") with { ConvBlocks = 4 }, data, dir.Path, new RecordingObserver(), null, CancellationToken.None));
        Assert.Contains("use fewer blocks", ex.Message);
    }

    [Fact]
    public void CategoricalEmbedding_TrainsAndRoundTripsThroughThePackage()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path), LabelColumn = "species" };
        var result = Trainer.Train(Quick("mlp") with { CategoricalEncoding = "embedding" }, data, dir.Path, new RecordingObserver(), null, CancellationToken.None);
        Assert.True(result.Evaluation.Accuracy > 0.95, $"accuracy {result.Evaluation.Accuracy}");
        using var predictor = Predictor.Load(result.ModelPackagePath);
        Assert.Equal(3, predictor.Schema.EncodedWidth); // x1, x2 and one id for color
        Assert.Equal("beta", Assert.Single(predictor.PredictTabular([[3.0, 0.0, "an unseen colour"]])).Label);
    }

    [Theory]
    [InlineData("mean", 500)]
    [InlineData("zero", 500)]
    [InlineData("drop", 480)]
    public void MissingValues_PolicyDecidesWhatHappensToIncompleteRows(string policy, int usableRows)
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteRegressionCsv(dir.Path, withMissing: true), LabelColumn = "y" };
        var options = Quick("mlp") with { Task = "regression", Epochs = 1, MissingValues = policy };
        var result = Trainer.Train(options, data, dir.Path, new RecordingObserver(), null, CancellationToken.None);
        Assert.Equal((int)(usableRows * 0.2), result.Evaluation.Samples);
    }

    [Fact]
    public void MissingValues_ErrorPolicy_NamesTheRowAndColumn()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteRegressionCsv(dir.Path, withMissing: true), LabelColumn = "y" };
        var ex = Assert.Throws<DatasetFormatException>(() => Trainer.Train(Quick("mlp") with { Task = "regression", MissingValues = "error" },
            data, dir.Path, new RecordingObserver(), null, CancellationToken.None));
        Assert.Contains("data row 8: 'x2' is missing", ex.Message);
    }

    [Fact]
    public void EarlyStopping_StopsWhenValidationLossStallsAndKeepsTheBestEpoch()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path), LabelColumn = "species" };
        // A learning rate this high makes the validation loss bounce, so patience 1 ends the run early.
        var options = Quick("mlp") with { Epochs = 40, LearningRate = 0.5, Optimizer = "sgd", EarlyStoppingPatience = 1 };
        var observer = new RecordingObserver();
        var result = Trainer.Train(options, data, dir.Path, observer, null, CancellationToken.None);
        Assert.True(result.EpochsCompleted < 40, $"ran {result.EpochsCompleted} epochs");
        Assert.Equal(result.EpochsCompleted, observer.Epochs.Count);
        double best = observer.Epochs.Min(e => e.ValidationLoss);
        Assert.True(observer.Epochs[^1].ValidationLoss >= best);
    }

    [Fact]
    public void Schedules_ChangeTheLearningRateAsDocumented()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path), LabelColumn = "species" };
        var step = Trainer.Train(Quick("mlp") with { Epochs = 4, Schedule = "step", StepSize = 2, Gamma = 0.5 }, data,
            Path.Combine(dir.Path, "step"), new RecordingObserver(), null, CancellationToken.None);
        // The rate halves after every second epoch's last step.
        Assert.Equal([0.01, 0.005, 0.005, 0.0025], step.History.Select(e => Math.Round(e.LearningRate, 6)));
        var cosine = Trainer.Train(Quick("mlp") with { Epochs = 4, Schedule = "cosine" }, data,
            Path.Combine(dir.Path, "cosine"), new RecordingObserver(), null, CancellationToken.None);
        Assert.True(cosine.History[^1].LearningRate < 1e-6, $"cosine ends at {cosine.History[^1].LearningRate}");
        Assert.True(cosine.History[0].LearningRate < 0.01 && cosine.History[0].LearningRate > 0.008);
    }

    [Fact]
    public void Checkpoint_TruncatedOrCorrupt_IsRefusedWithAClearError()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path), LabelColumn = "species" };
        var observer = new RecordingObserver();
        Trainer.Train(Quick("mlp") with { Epochs = 1 }, data, Path.Combine(dir.Path, "run"), observer, null, CancellationToken.None);
        byte[] good = File.ReadAllBytes(observer.Checkpoints[0].Path);
        string bad = Path.Combine(dir.Path, "bad.ckpt");
        var random = new Random(1);
        for (int trial = 0; trial < 24; trial++)
        {
            byte[] bytes = trial < 12 ? good[..random.Next(good.Length)] : (byte[])good.Clone();
            if (trial >= 12) bytes[random.Next(bytes.Length)] ^= (byte)(1 + random.Next(255));
            File.WriteAllBytes(bad, bytes);
            try
            {
                Trainer.Train(Quick("mlp") with { Epochs = 2 }, data, Path.Combine(dir.Path, $"resume{trial}"), new RecordingObserver(), bad, CancellationToken.None);
                // A flipped bit inside compressed padding or JSON whitespace can leave a valid file: resuming is then fine.
                Assert.True(trial >= 12, $"a checkpoint cut to {bytes.Length} of {good.Length} bytes was accepted");
            }
            catch (InvalidDataException e)
            {
                Assert.Contains("not a valid checkpoint", e.Message);
            }
        }
    }

    [Fact]
    public void Checkpoint_FromOtherOptions_IsRefused()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path), LabelColumn = "species" };
        var observer = new RecordingObserver();
        Trainer.Train(Quick("mlp") with { Epochs = 1 }, data, Path.Combine(dir.Path, "run"), observer, null, CancellationToken.None);
        var ex = Assert.Throws<ArgumentException>(() => Trainer.Train(Quick("mlp") with { Epochs = 2, HiddenLayers = [8] }, data,
            Path.Combine(dir.Path, "b"), new RecordingObserver(), observer.Checkpoints[0].Path, CancellationToken.None));
        Assert.Contains("other training options", ex.Message);
    }

    [Fact]
    public void ModelPackage_OfTheFirstFormat_AsksForRetraining()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "old.mopkg");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using (var w = new StreamWriter(zip.CreateEntry("model.json").Open())) w.Write("{\"formatVersion\":1,\"schema\":{}}");
            zip.CreateEntry("weights.bin");
        }
        var ex = Assert.Throws<InvalidDataException>(() => Predictor.Load(path));
        Assert.Contains("retrain", ex.Message);
    }

    [Fact]
    public void Options_Validate_NamesEveryBadOption()
    {
        var errors = new TrainingOptions { Template = "rnn", Optimizer = "adagrad", Epochs = 0, Nesterov = true, Dropout = 1.5, Task = "regression" }.Validate();
        Assert.Contains(errors, e => e.Contains("Template 'rnn'"));
        Assert.Contains(errors, e => e.Contains("Optimizer 'adagrad'"));
        Assert.Contains(errors, e => e.Contains("Epochs"));
        Assert.Contains(errors, e => e.Contains("Nesterov"));
        Assert.Contains(errors, e => e.Contains("Dropout"));
        Assert.Empty(new TrainingOptions().Validate());
    }

    [Fact]
    public void Evaluation_RocAucAndWeightedAverages_MatchHandComputedValues()
    {
        // Scores 0.1 0.4 0.35 0.8 for labels 0 0 1 1: of the four (positive, negative) pairs, three are ordered right.
        Assert.Equal(0.75, Evaluation.RocAuc([0, 0, 1, 1], [0.1f, 0.4f, 0.35f, 0.8f]), 10);
        Assert.Equal(0.5, Evaluation.RocAuc([0, 1], [0.5f, 0.5f]), 10);
        var output = new Evaluation.Output(0, [0, 0, 0, 1], [], []);
        var report = Evaluation.Classification([0, 0, 1, 1], output, ["a", "b"]);
        // Class a: precision 2/3, recall 1; class b: precision 1, recall 1/2; both have support 2.
        Assert.Equal((2.0 / 3 + 1) / 2, report.PrecisionWeighted, 10);
        Assert.Equal(0.75, report.RecallWeighted, 10);
        Assert.Equal((0.8 + 2.0 / 3) / 2, report.F1Weighted, 10);
    }

    [Fact]
    public void CsvTable_TabSeparatedFile_IsDetected()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "data.tsv");
        File.WriteAllText(path, "a\tb\tlabel\n1,5\t2\tx\n");
        var table = CsvTable.Read(path);
        Assert.Equal(["a", "b", "label"], table.Header);
        Assert.Equal(["1,5", "2", "x"], table.Rows[0]);
    }

    [Fact]
    public void TextVocabulary_KeepsTheMostFrequentTrainingTokens()
    {
        var vocabulary = TextVocabulary.Build(["The cat, the DOG.", "the cat's toy"], maxSize: 4);
        Assert.Equal(["<pad>", "<unk>", "the", "cat"], vocabulary.Tokens);
        var ids = new long[5];
        Assert.Equal(3, vocabulary.Encode("the bird cat", ids));
        Assert.Equal([2, 1, 3, 0, 0], ids);
    }
}
