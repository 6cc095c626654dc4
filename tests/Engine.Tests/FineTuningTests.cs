using System.Text;
using ModelOps.Engine.Data;
using ModelOps.Engine.Models;
using ModelOps.Engine.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ModelOps.Engine.Tests;

/// <summary>
/// A parent model trained once on plenty of blob data, for the fine-tuning tests: the two informative
/// columns hide among 16 columns of noise, so learning which ones matter takes data.
/// </summary>
public sealed class BlobsParent : IDisposable
{
    private readonly TempDirectory dir = new();

    public const int NoiseColumns = 16;

    public static readonly TrainingOptions Options = new()
    {
        HiddenLayers = [32, 16], BatchNorm = true, Dropout = 0.1, Epochs = 6, BatchSize = 32, LearningRate = 0.01, Device = "cpu", Seed = 5,
    };

    public BlobsParent()
    {
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path, n: 1200, noiseColumns: NoiseColumns), LabelColumn = "species" };
        Result = Trainer.Train(Options, data, Path.Combine(dir.Path, "parent"), NullTrainingObserver.Instance, null, CancellationToken.None);
    }

    public TrainingResult Result { get; }
    public string PackagePath => Result.ModelPackagePath;

    public void Dispose() => dir.Dispose();
}

/// <summary>Fine-tuning a registered model: its network and encoding, a new head for new classes, frozen early layers.</summary>
public class FineTuningTests(BlobsParent parent, ITestOutputHelper output) : IClassFixture<BlobsParent>
{
    private static DatasetFiles Csv(string path) => new() { Kind = "csv", CsvPath = path, LabelColumn = "species" };

    /// <summary>The blobs moved by (1.5, -1), other noise: the same task on another distribution, with 24 training rows.</summary>
    private static (DatasetFiles Data, TrainingOptions Options) Shifted(string dir) =>
        (Csv(TestData.WriteBlobsCsv(dir, n: 300, seed: 108, shiftX: 1.5, shiftY: -1, noiseColumns: BlobsParent.NoiseColumns, fileName: "shifted.csv")),
         BlobsParent.Options with { Epochs = 3, BatchSize = 8, MaxTrainSamples = 24, Seed = 9 });

    /// <summary>The blob CSV with its class names replaced and the rows of dropped classes left out.</summary>
    private static string Relabel(string csvPath, string fileName, IReadOnlyDictionary<string, string> names)
    {
        var lines = File.ReadAllLines(csvPath);
        var text = new StringBuilder(lines[0]).Append('\n');
        foreach (var line in lines.Skip(1))
        {
            int comma = line.LastIndexOf(',');
            if (names.TryGetValue(line[(comma + 1)..], out var name)) text.Append(line[..(comma + 1)]).Append(name).Append('\n');
        }
        string path = Path.Combine(Path.GetDirectoryName(csvPath)!, fileName);
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private static Dictionary<string, float[]> State(string packagePath)
    {
        var (schema, weights) = ModelPackage.Read(packagePath);
        using var model = ModelTemplates.Build(schema);
        weights.LoadInto(model);
        return model.state_dict().ToDictionary(p => p.Key, p => p.Value.to(ScalarType.Float32).data<float>().ToArray());
    }

    [Fact]
    public void FineTuned_OnASmallShiftedDataset_BeatsTrainingFromScratchInTheSameEpochs()
    {
        using var dir = new TempDirectory();
        var (data, options) = Shifted(dir.Path);

        var scratch = Trainer.Train(options, data, Path.Combine(dir.Path, "scratch"), NullTrainingObserver.Instance, null, CancellationToken.None);
        var tuned = Trainer.Train(options, data, Path.Combine(dir.Path, "tuned"), NullTrainingObserver.Instance, null, CancellationToken.None,
            parentModelPackagePath: parent.PackagePath);

        output.WriteLine($"24 shifted training rows, 3 epochs: fine-tuned test accuracy {tuned.Evaluation.Accuracy:F3}, from scratch {scratch.Evaluation.Accuracy:F3} "
            + $"({tuned.Evaluation.Samples} test rows; the parent scored {parent.Result.Evaluation.Accuracy:F3} on its own test split)");
        // Measured over seeds 9 to 14: fine-tuned 0.97 to 1.00, from scratch 0.40 to 0.53 (24 rows cannot tell
        // the two columns that matter from the 16 that do not; the parent's first layer already has).
        Assert.Equal(60, tuned.Evaluation.Samples);
        Assert.Equal(scratch.Evaluation.Samples, tuned.Evaluation.Samples);
        Assert.True(tuned.Evaluation.Accuracy >= 0.9, $"fine-tuned accuracy {tuned.Evaluation.Accuracy}");
        Assert.True(tuned.Evaluation.Accuracy - scratch.Evaluation.Accuracy >= 0.25,
            $"fine-tuned {tuned.Evaluation.Accuracy} vs from scratch {scratch.Evaluation.Accuracy}");
        Assert.Empty(tuned.FreshParameters); // same classes: every weight came from the parent
        Assert.Equal(0, tuned.FrozenLayers);
    }

    [Fact]
    public void FineTuning_KeepsTheParentsNetworkAndEncoding_WhateverTheRunAsks()
    {
        using var dir = new TempDirectory();
        var (data, options) = Shifted(dir.Path);
        var asked = options with { Epochs = 1, HiddenLayers = [4], BatchNorm = false, CategoricalEncoding = "embedding" };

        var tuned = Trainer.Train(asked, data, dir.Path, NullTrainingObserver.Instance, null, CancellationToken.None, parentModelPackagePath: parent.PackagePath);

        var (parentSchema, _) = ModelPackage.Read(parent.PackagePath);
        var (schema, _) = ModelPackage.Read(tuned.ModelPackagePath);
        Assert.Equal([32, 16], schema.Architecture.HiddenLayers);
        Assert.True(schema.Architecture.BatchNorm);
        Assert.Equal("onehot", schema.CategoricalEncoding);
        // The parent's statistics, not the shifted data's: its weights see inputs on the scale they learnt.
        Assert.Equal(parentSchema.Features.Select(f => (f.Name, f.Mean, f.Std)), schema.Features.Select(f => (f.Name, f.Mean, f.Std)));
        Assert.Equal(parentSchema.Features.Select(f => f.Categories), schema.Features.Select(f => f.Categories));
    }

    [Fact]
    public void FineTuning_ForOtherClasses_GivesTheOutputLayerFreshWeightsAndKeepsTheRest()
    {
        using var dir = new TempDirectory();
        var (data, options) = Shifted(dir.Path);
        // Only the head trains, so every other tensor must still be the parent's afterwards.
        options = options with { Epochs = 1, TrainableLayers = 1 };
        string twoClasses = Relabel(data.CsvPath!, "two.csv", new Dictionary<string, string> { ["alpha"] = "left", ["beta"] = "right" });
        string renamed = Relabel(data.CsvPath!, "renamed.csv", new Dictionary<string, string> { ["alpha"] = "a", ["beta"] = "b", ["gamma"] = "c" });

        var two = Trainer.Train(options, Csv(twoClasses), Path.Combine(dir.Path, "two"), NullTrainingObserver.Instance, null,
            CancellationToken.None, parentModelPackagePath: parent.PackagePath);
        var three = Trainer.Train(options, Csv(renamed), Path.Combine(dir.Path, "renamed"), NullTrainingObserver.Instance, null,
            CancellationToken.None, parentModelPackagePath: parent.PackagePath);

        // Linear, BatchNorm, ReLU, Dropout per hidden layer: the output layer is "8".
        Assert.Equal(["8.weight", "8.bias"], two.FreshParameters);
        // Three classes again, but not the parent's three: the old head's rows would score the wrong classes.
        Assert.Equal(["8.weight", "8.bias"], three.FreshParameters);
        var before = State(parent.PackagePath);
        var after = State(two.ModelPackagePath);
        Assert.Equal(2 * 16, after["8.weight"].Length);
        Assert.All(before.Keys.Where(k => !k.StartsWith("8.", StringComparison.Ordinal)), name => Assert.Equal(before[name], after[name]));
        using var predictor = Predictor.Load(two.ModelPackagePath);
        Assert.Equal(["left", "right"], predictor.Schema.ClassNames);
    }

    [Fact]
    public void TrainableLayers_FreezeAllButTheLastLayers_WhoseWeightsAloneChange()
    {
        using var dir = new TempDirectory();
        var (data, options) = Shifted(dir.Path);

        var tuned = Trainer.Train(options with { TrainableLayers = 2 }, data, dir.Path, NullTrainingObserver.Instance, null, CancellationToken.None,
            parentModelPackagePath: parent.PackagePath);

        // Weighted layers 0 (Linear), 1 (BatchNorm), 4 (Linear), 5 (BatchNorm), 8 (output): the first three stay.
        Assert.Equal(3, tuned.FrozenLayers);
        var before = State(parent.PackagePath);
        var after = State(tuned.ModelPackagePath);
        string[] frozen = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias"];
        string[] trained = ["5.weight", "5.bias", "5.running_mean", "5.running_var", "8.weight", "8.bias"];
        Assert.All(frozen, name => Assert.Equal(before[name], after[name]));
        Assert.All(trained, name => Assert.NotEqual(before[name], after[name]));
        Assert.Equal(before.Keys.Order(), frozen.Concat(trained).Append("5.num_batches_tracked").Order());
    }

    [Fact]
    public void TrainableLayers_OfATransformer_CountEachEncoderLayerOnceAndEndWithTheHead()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "text", CsvPath = TestData.WriteReviewsCsv(dir.Path, n: 200), LabelColumn = "label", TextColumn = "text" };
        var options = new TrainingOptions
        {
            Template = "text-transformer", EmbeddingDim = 8, AttentionHeads = 2, HiddenSize = 8, TransformerLayers = 2, MaxTokens = 16,
            Epochs = 1, BatchSize = 32, LearningRate = 0.01, Device = "cpu", Seed = 3,
        };
        var first = Trainer.Train(options, data, Path.Combine(dir.Path, "parent"), NullTrainingObserver.Instance, null, CancellationToken.None);

        var tuned = Trainer.Train(options with { TrainableLayers = 1 }, data, Path.Combine(dir.Path, "child"), NullTrainingObserver.Instance, null,
            CancellationToken.None, parentModelPackagePath: first.ModelPackagePath);

        // token_embedding, position_embedding, layers.0, layers.1 frozen; only the output layer trains.
        Assert.Equal(4, tuned.FrozenLayers);
        var before = State(first.ModelPackagePath);
        var after = State(tuned.ModelPackagePath);
        Assert.All(before.Keys.Where(k => !k.StartsWith("output.", StringComparison.Ordinal)), name => Assert.Equal(before[name], after[name]));
        Assert.NotEqual(before["output.weight"], after["output.weight"]);
    }

    [Fact]
    public void FineTuning_APackageOfTheEngineBeforeTorchSharp_Works()
    {
        using var dir = new TempDirectory();
        var run = LegacyFixtures.Json("mlp-classification.expected.json");
        var options = LegacyFixtures.Options(run) with { Epochs = 1, TrainableLayers = 1 };

        var tuned = Trainer.Train(options, LegacyFixtures.Dataset(run), dir.Path, NullTrainingObserver.Instance, null, CancellationToken.None,
            parentModelPackagePath: LegacyFixtures.File("mlp-classification.mopkg"));

        Assert.True(tuned.Evaluation.Accuracy > 0.95, $"accuracy {tuned.Evaluation.Accuracy}");
        Assert.Equal(4, tuned.FrozenLayers);
        Assert.Empty(tuned.FreshParameters);
        var (_, weights) = ModelPackage.Read(tuned.ModelPackagePath);
        Assert.Equal(WeightsFormat.TorchSharp, weights.Format);
    }

    [Fact]
    public void FineTuning_FromAParentOfAnotherInputKind_SaysWhatEachReads()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<DatasetFormatException>(() => Trainer.Train(new TrainingOptions { Device = "cpu" },
            Csv(TestData.WriteBlobsCsv(dir.Path, n: 60)), dir.Path, NullTrainingObserver.Instance, null, CancellationToken.None,
            parentModelPackagePath: LegacyFixtures.File("text-cnn.mopkg")));
        Assert.Equal("the model to fine-tune reads text input, but this dataset is tabular", ex.Message);
    }

    [Fact]
    public void FineTuning_ARegressionParentForClassification_IsRefused()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<ArgumentException>(() => Trainer.Train(new TrainingOptions { Device = "cpu" },
            Csv(TestData.WriteBlobsCsv(dir.Path, n: 60)), dir.Path, NullTrainingObserver.Instance, null, CancellationToken.None,
            parentModelPackagePath: LegacyFixtures.File("mlp-regression.mopkg")));
        Assert.Equal("the model to fine-tune does regression, but this run asks for classification", ex.Message);
    }

    [Fact]
    public void TrainableLayers_WithoutAParent_FreezeNothing_AndOutOfRangeIsRejected()
    {
        using var dir = new TempDirectory();
        var result = Trainer.Train(new TrainingOptions { Epochs = 1, Device = "cpu", TrainableLayers = 1 }, Csv(TestData.WriteBlobsCsv(dir.Path, n: 60)),
            dir.Path, NullTrainingObserver.Instance, null, CancellationToken.None);
        Assert.Equal(0, result.FrozenLayers);
        Assert.Contains("TrainableLayers must be from 0 (all) to 100", new TrainingOptions { TrainableLayers = -1 }.Validate());
        Assert.Contains("TrainableLayers must be from 0 (all) to 100", new TrainingOptions { TrainableLayers = 101 }.Validate());
    }
}
