using ModelOps.Engine.Models;
using ModelOps.Engine.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ModelOps.Engine.Tests;

/// <summary>
/// Models and checkpoints made by the engine before TorchSharp (package and checkpoint format 2, MOSD
/// weights, libtorch 1.13) keep working: every template's package predicts what it predicted then, and a
/// checkpoint of that engine resumes. Fixtures/legacy/README.md describes the files.
/// </summary>
public class LegacyCompatibilityTests(ITestOutputHelper output)
{
    /// <summary>
    /// libtorch 2.10's kernels (matmul blocking, vectorised exp, LSTM gates) may round the last float bits
    /// differently from 1.13's; a probability that moves by more than this is not rounding (measured on
    /// this CPU: at most 1.2e-7, one or two float32 ulps).
    /// </summary>
    private const double ProbabilityTolerance = 1e-5;

    public static TheoryData<string> Models => new(LegacyFixtures.Models);

    [Theory]
    [MemberData(nameof(Models))]
    public void LegacyPackage_LoadsAndPredictsWhatTheOldEnginePredicted(string model)
    {
        var expected = LegacyFixtures.Json($"{model}.expected.json");
        using var predictor = Predictor.Load(LegacyFixtures.File($"{model}.mopkg"));

        var schema = predictor.Schema;
        Assert.Equal(expected.GetProperty("template").GetString(), schema.Template);
        Assert.Equal(expected.GetProperty("inputKind").GetString(), schema.InputKind);
        Assert.Equal(expected.GetProperty("task").GetString(), schema.Task);
        Assert.Equal(expected.GetProperty("classNames").EnumerateArray().Select(e => e.GetString()), schema.ClassNames);
        Assert.Equal(expected.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("name").GetString()), schema.Features.Select(f => f.Name));

        var cases = LegacyFixtures.Predictions(expected);
        var predictions = LegacyFixtures.Predict(predictor, cases);

        Assert.Equal(cases.Count, predictions.Count);
        double maxProbability = 0, maxValue = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            var (want, got) = (cases[i], predictions[i]);
            Assert.Equal(want.ClassIndex, got.ClassIndex);
            if (want.Value is { } value)
            {
                double difference = Math.Abs(value - got.Value!.Value);
                maxValue = Math.Max(maxValue, difference);
                // float32 network output, scaled by the label's deviation: allow float32 rounding on that scale.
                Assert.True(difference <= 1e-4 * Math.Max(1, Math.Abs(value)), $"case {i}: value {got.Value} instead of {value}");
                continue;
            }
            Assert.Equal(want.Label, got.Label);
            Assert.Equal(want.Probabilities.Keys, got.Probabilities.Keys);
            foreach (var (name, probability) in want.Probabilities)
            {
                double difference = Math.Abs(probability - got.Probabilities[name]);
                maxProbability = Math.Max(maxProbability, difference);
                Assert.True(difference <= ProbabilityTolerance, $"case {i}, class {name}: {got.Probabilities[name]} instead of {probability}");
            }
        }
        output.WriteLine(schema.IsRegression
            ? $"{model}: {cases.Count} inputs, same predictions; max |value difference| {maxValue:E2}"
            : $"{model}: {cases.Count} inputs, same classes; max |probability difference| {maxProbability:E2}");
    }

    [Fact]
    public void LegacyPackage_BatchNormCountersAndStatistics_LoadIntoTorchSharpBuffers()
    {
        var (schema, weights) = ModelPackage.Read(LegacyFixtures.File("mlp-classification.mopkg"));
        Assert.Equal(WeightsFormat.Mosd, weights.Format);
        using var model = ModelTemplates.Build(schema);
        weights.LoadInto(model);
        var state = model.state_dict();
        // 210 training rows in batches of 16 is 14 batches; 3 epochs: each batch norm saw 42 training batches.
        Assert.Equal(ScalarType.Int64, state["1.num_batches_tracked"].dtype);
        Assert.Equal(42L, state["1.num_batches_tracked"].item<long>());
        Assert.Equal(42L, state["5.num_batches_tracked"].item<long>());
        Assert.True(state["1.running_var"].min().item<float>() > 0);
        Assert.NotEqual(1f, state["1.running_var"].mean().item<float>());
    }

    [Fact]
    public void LegacyPackage_WeightsForAnotherShape_NameTheEntryAndBothShapes()
    {
        var (schema, weights) = ModelPackage.Read(LegacyFixtures.File("mlp-classification.mopkg"));
        using var wider = ModelTemplates.Build(schema with { Architecture = schema.Architecture with { HiddenLayers = [20, 8] } });
        var before = wider.state_dict()["0.weight"].clone();

        var ex = Assert.Throws<InvalidDataException>(() => weights.LoadInto(wider));

        Assert.Equal("entry '0.weight' has shape [16, 6] but the module expects [20, 6]", ex.Message);
        Assert.True(before.equal(wider.state_dict()["0.weight"]).all().item<bool>(), "a refused load leaves the module as it was");
    }

    [Fact]
    public void LegacyMosd_TruncatedOrBitFlippedAnywhere_IsRefusedAndTheModuleIsUnchanged()
    {
        var (schema, weights) = ModelPackage.Read(LegacyFixtures.File("mlp-classification.mopkg"));
        byte[] bytes = weights.Bytes;
        using var model = ModelTemplates.Build(schema);
        byte[] before = ModuleState.Save(model);

        for (int length = 0; length < bytes.Length; length++)
            Assert.Throws<InvalidDataException>(() => new ModelWeights(WeightsFormat.Mosd, bytes[..length]).LoadInto(model));
        for (int i = 0; i < bytes.Length; i++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= (byte)(1 << (i % 8));
            Assert.Throws<InvalidDataException>(() => new ModelWeights(WeightsFormat.Mosd, damaged).LoadInto(model));
        }
        Assert.Contains("truncated at byte 100", Assert.Throws<InvalidDataException>(() => new ModelWeights(WeightsFormat.Mosd, bytes[..100]).LoadInto(model)).Message);
        var flipped = (byte[])bytes.Clone();
        flipped[^10] ^= 1;
        Assert.Contains("checksum mismatch", Assert.Throws<InvalidDataException>(() => new ModelWeights(WeightsFormat.Mosd, flipped).LoadInto(model)).Message);
        Assert.Equal(before, ModuleState.Save(model));
    }

    [Theory]
    [InlineData("mlp-classification")]
    [InlineData("text-lstm")]
    public void LegacyPackage_WithDamagedBytes_IsRefusedOrPredictsExactlyAsBefore(string model)
    {
        using var dir = new TempDirectory();
        string original = LegacyFixtures.File($"{model}.mopkg");
        var cases = LegacyFixtures.Predictions(LegacyFixtures.Json($"{model}.expected.json"));
        double[][] Probabilities(string path)
        {
            using var predictor = Predictor.Load(path);
            return LegacyFixtures.Predict(predictor, cases).Select(p => p.Probabilities.Values.ToArray()).ToArray();
        }
        var expected = Probabilities(original);
        byte[] good = File.ReadAllBytes(original);
        string damaged = Path.Combine(dir.Path, "damaged.mopkg");
        var random = new Random(17);
        int refused = 0;
        for (int trial = 0; trial < 120; trial++)
        {
            byte[] bytes = trial < 60 ? good[..random.Next(good.Length)] : (byte[])good.Clone();
            if (trial >= 60) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(damaged, bytes);
            try
            {
                // A flip in zip metadata that nothing reads (a timestamp, an attribute) leaves a sound package.
                Assert.Equal(expected, Probabilities(damaged));
                Assert.True(trial >= 60, $"a package cut to {bytes.Length} of {good.Length} bytes was accepted");
            }
            catch (InvalidDataException e)
            {
                Assert.Contains("not a valid model package", e.Message);
                refused++;
            }
        }
        output.WriteLine($"{model}: 60 truncated and 60 bit-flipped copies, {refused} refused, {120 - refused} flips in zip metadata nothing reads");
    }

    [Fact]
    public void LegacyCheckpoint_IsReadWithItsWeightsButWithoutOptimizerState()
    {
        var (checkpoint, state) = Checkpoint.Read(LegacyFixtures.File("mlp-classification.epoch2.ckpt"));
        var run = LegacyFixtures.Json("mlp-classification.epoch2.run.json");
        Assert.Equal(2, checkpoint.FormatVersion);
        Assert.Equal(2, checkpoint.Epoch);
        Assert.Equal(LegacyFixtures.History(run)[..2], checkpoint.History);
        Assert.Equal(28, checkpoint.SchedulerSteps); // two epochs of 14 batches
        Assert.Equal(WeightsFormat.Mosd, state.Model.Format);
        Assert.False(state.OptimizerRestored);
        Assert.Null(state.Best);
    }

    [Theory]
    [InlineData("mlp-classification")]
    [InlineData("text-lstm")]
    public void LegacyCheckpoint_Resumes_KeepsItsHistoryAndLandsCloseToTheUninterruptedOldRun(string model)
    {
        var run = LegacyFixtures.Json($"{model}.epoch2.run.json");
        var options = LegacyFixtures.Options(run);
        var uninterrupted = LegacyFixtures.History(run);
        using var dir = new TempDirectory();
        var observer = new RecordingObserver();

        var result = Trainer.Train(options, LegacyFixtures.Dataset(run), dir.Path, observer,
            LegacyFixtures.File($"{model}.epoch2.ckpt"), CancellationToken.None);

        Assert.Equal(3, result.EpochsCompleted);
        Assert.Equal([3], observer.Epochs.Select(e => e.Epoch));
        Assert.Equal(uninterrupted[..2], result.History.Take(2));
        var (old, resumed) = (uninterrupted[2], result.History[2]);
        output.WriteLine($"{model} epoch 3, old engine uninterrupted vs TorchSharp resumed from the format 2 checkpoint:");
        output.WriteLine($"  train loss {old.TrainLoss:F6} vs {resumed.TrainLoss:F6}, validation loss {old.ValidationLoss:F6} vs {resumed.ValidationLoss:F6}");
        output.WriteLine($"  validation accuracy {old.ValidationAccuracy:F4} vs {resumed.ValidationAccuracy:F4}, learning rate {old.LearningRate:R} vs {resumed.LearningRate:R}");
        output.WriteLine($"  test accuracy {run.GetProperty("evaluation").GetProperty("accuracy").GetDouble():F4} vs {result.Evaluation.Accuracy:F4}");

        // The schedule is replayed from the checkpoint's step count: the same rate, up to float rounding.
        Assert.Equal(old.LearningRate, resumed.LearningRate, 1e-9);
        // Adam's moments were in libtorch 1.13's own archive and start afresh, so epoch 3 is not bit-equal: its
        // first steps are bias-corrected full-size steps again. The model still continues from epoch 2's
        // weights, so it stays on the old run's curve: same loss scale, same validation accuracy within a few rows.
        Assert.InRange(resumed.TrainLoss, old.TrainLoss * 0.5, old.TrainLoss * 2);
        Assert.InRange(resumed.ValidationLoss, 0, Math.Max(2 * old.ValidationLoss, uninterrupted[1].ValidationLoss));
        Assert.InRange(resumed.ValidationAccuracy, old.ValidationAccuracy - 0.05, 1);
        Assert.InRange(result.Evaluation.Accuracy, run.GetProperty("evaluation").GetProperty("accuracy").GetDouble() - 0.05, 1);

        // The resumed run's checkpoint is written in the current format.
        var (written, state) = Checkpoint.Read(observer.Checkpoints[0].Path);
        Assert.Equal(Checkpoint.CurrentFormat, written.FormatVersion);
        Assert.True(state.OptimizerRestored);
        Assert.Equal(WeightsFormat.TorchSharp, state.Model.Format);
    }
}
