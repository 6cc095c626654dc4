using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelOps.Engine.Models;
using ModelOps.Engine.Training;
using Xunit.Abstractions;

namespace ModelOps.Engine.Tests;

/// <summary>A package and a checkpoint of the current format, written once for the damage tests.</summary>
public sealed class TrainedRunFiles : IDisposable
{
    private readonly TempDirectory dir = new();

    public TrainedRunFiles()
    {
        var options = new TrainingOptions { HiddenLayers = [16, 8], Epochs = 1, BatchSize = 32, LearningRate = 0.01, Device = "cpu", Seed = 3, Optimizer = "adamw" };
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path, n: 300), LabelColumn = "species" };
        var observer = new RecordingObserver();
        var result = Trainer.Train(options, data, Path.Combine(dir.Path, "run"), observer, null, CancellationToken.None);
        PackagePath = result.ModelPackagePath;
        CheckpointPath = observer.Checkpoints[0].Path;
    }

    public string PackagePath { get; }
    public string CheckpointPath { get; }
    public string Directory => dir.Path;

    public void Dispose() => dir.Dispose();
}

/// <summary>
/// Damaged packages and checkpoints are refused with an <see cref="InvalidDataException"/> that says what
/// the file is not, never a crash and never a model that silently differs: every entry's length and
/// CRC-32 are checked before TorchSharp parses a byte, and the manifest itself sits in the zip.
/// </summary>
public class CorruptFileTests(TrainedRunFiles files, ITestOutputHelper output) : IClassFixture<TrainedRunFiles>
{
    private static readonly IReadOnlyList<IReadOnlyList<object?>> Rows = [[-3.0, 0.0, "red"], [3.0, 0.5, "blue"], [0.2, 3.8, "unseen"], [0.0, 0.0, "red"]];

    /// <summary>Lengths spread over the whole file, plus every length in the first and last 64 bytes.</summary>
    private static IEnumerable<int> Cuts(int length) =>
        Enumerable.Range(0, 64).Concat(Enumerable.Range(length - 64, 64)).Concat(Enumerable.Range(1, 150).Select(i => (int)((long)length * i / 151))).Distinct();

    /// <summary>One bit at positions spread over the whole file, and in its first and last 64 bytes.</summary>
    private static IEnumerable<(int Position, int Bit)> Flips(int length) =>
        Cuts(length).Where(p => p < length).Select(p => (p, p % 8));

    private static float[][] Probabilities(Predictor predictor) =>
        predictor.PredictTabular(Rows).Select(p => p.Probabilities.Values.Select(v => (float)v).ToArray()).ToArray();

    [Fact]
    public void Crc32_OfTheChecksums_IsZlibsCrc32()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0u, Crc32.Compute([]));
    }

    [Fact]
    public void Package_TruncatedAtAnyLength_IsNotAValidModelPackage()
    {
        byte[] good = File.ReadAllBytes(files.PackagePath);
        string path = Path.Combine(files.Directory, "truncated.mopkg");
        int cuts = 0;
        foreach (int length in Cuts(good.Length))
        {
            File.WriteAllBytes(path, good[..length]);
            var ex = Assert.Throws<InvalidDataException>(() => Predictor.Load(path));
            Assert.StartsWith("'truncated.mopkg' is not a valid model package", ex.Message);
            cuts++;
        }
        output.WriteLine($"{cuts} truncations of the {good.Length}-byte package, all refused");
    }

    [Fact]
    public void Package_WithABitFlippedAnywhere_IsRefusedOrPredictsExactlyAsBefore()
    {
        byte[] good = File.ReadAllBytes(files.PackagePath);
        float[][] expected;
        using (var original = Predictor.Load(files.PackagePath)) expected = Probabilities(original);
        string path = Path.Combine(files.Directory, "flipped.mopkg");
        int refused = 0, harmless = 0;
        foreach (var (position, bit) in Flips(good.Length))
        {
            byte[] bytes = (byte[])good.Clone();
            bytes[position] ^= (byte)(1 << bit);
            File.WriteAllBytes(path, bytes);
            try
            {
                using var predictor = Predictor.Load(path);
                // Only bytes nothing reads may change: a timestamp, an attribute, a version-made-by field.
                Assert.Equal(expected, Probabilities(predictor));
                harmless++;
            }
            catch (InvalidDataException e)
            {
                Assert.Contains("not a valid model package", e.Message);
                refused++;
            }
        }
        output.WriteLine($"{refused + harmless} one-bit flips of the {good.Length}-byte package: {refused} refused, {harmless} in zip metadata nothing reads");
        Assert.True(refused > harmless, "most flips must be caught");
    }

    [Fact]
    public void Checkpoint_TruncatedAtAnyLength_IsNotAValidCheckpoint()
    {
        byte[] good = File.ReadAllBytes(files.CheckpointPath);
        string path = Path.Combine(files.Directory, "truncated.ckpt");
        foreach (int length in Cuts(good.Length))
        {
            File.WriteAllBytes(path, good[..length]);
            var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(path));
            Assert.StartsWith("'truncated.ckpt' is not a valid checkpoint", ex.Message);
        }
    }

    [Fact]
    public void Checkpoint_WithABitFlippedAnywhere_IsRefusedOrReadsExactlyAsBefore()
    {
        byte[] good = File.ReadAllBytes(files.CheckpointPath);
        var (checkpoint, state) = Checkpoint.Read(files.CheckpointPath);
        string path = Path.Combine(files.Directory, "flipped.ckpt");
        int refused = 0, harmless = 0;
        foreach (var (position, bit) in Flips(good.Length))
        {
            byte[] bytes = (byte[])good.Clone();
            bytes[position] ^= (byte)(1 << bit);
            File.WriteAllBytes(path, bytes);
            try
            {
                var (readCheckpoint, readState) = Checkpoint.Read(path);
                Assert.Equal(JsonSerializer.Serialize(checkpoint, ModelPackage.Json), JsonSerializer.Serialize(readCheckpoint, ModelPackage.Json));
                Assert.Equal(state.Model.Bytes, readState.Model.Bytes);
                Assert.Equal(state.Optimizer, readState.Optimizer);
                harmless++;
            }
            catch (InvalidDataException e)
            {
                Assert.Contains("not a valid checkpoint", e.Message);
                refused++;
            }
        }
        output.WriteLine($"{refused + harmless} one-bit flips of the {good.Length}-byte checkpoint: {refused} refused, {harmless} in zip metadata nothing reads");
        Assert.True(refused > harmless, "most flips must be caught");
    }

    [Fact]
    public void Checkpoint_Damaged_IsRefusedByTheTrainerBeforeAnyTraining()
    {
        byte[] good = File.ReadAllBytes(files.CheckpointPath);
        string path = Path.Combine(files.Directory, "cut.ckpt");
        File.WriteAllBytes(path, good[..(good.Length / 2)]);
        var observer = new RecordingObserver();
        var data = new DatasetFiles { Kind = "csv", CsvPath = Path.Combine(files.Directory, "blobs.csv"), LabelColumn = "species" };

        var ex = Assert.Throws<InvalidDataException>(() => Trainer.Train(new TrainingOptions { Device = "cpu" }, data,
            Path.Combine(files.Directory, "resume"), observer, path, CancellationToken.None));

        Assert.StartsWith("'cut.ckpt' is not a valid checkpoint", ex.Message);
        Assert.Empty(observer.Progress);
    }

    [Fact]
    public void Package_ForAnotherArchitecture_IsRefusedNamingTheTensorThatDoesNotFit()
    {
        // The same weights under a schema that asks for a wider first layer.
        string path = Path.Combine(files.Directory, "wider.mopkg");
        File.Copy(files.PackagePath, path, overwrite: true);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("model.json")!;
            JsonNode manifest;
            using (var stream = entry.Open()) manifest = JsonNode.Parse(stream)!;
            manifest["schema"]!["architecture"]!["hiddenLayers"] = new JsonArray(20, 8);
            entry.Delete();
            using var writer = new StreamWriter(zip.CreateEntry("model.json").Open());
            writer.Write(manifest.ToJsonString());
        }

        var ex = Assert.Throws<InvalidDataException>(() => Predictor.Load(path));

        Assert.Equal("'wider.mopkg' is not a valid model package: its weights do not load "
            + "(the weights do not fit this network: entry '0.weight' has shape [16, 5] but the module expects [20, 5])", ex.Message);
    }

    [Fact]
    public void Weights_OfAnotherTemplate_AreRefusedNamingAnEntryTheNetworkLacks()
    {
        var (schema, weights) = ModelPackage.Read(files.PackagePath);
        using var other = ModelTemplates.Build(schema with { CategoricalEncoding = "embedding" });
        var ex = Assert.Throws<InvalidDataException>(() => weights.LoadInto(other));
        Assert.Equal("the weights do not fit this network: the state has an entry '0.weight' that the module does not have", ex.Message);
    }
}
