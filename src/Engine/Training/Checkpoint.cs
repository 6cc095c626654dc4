using System.IO.Compression;
using System.Text.Json;
using ModelOps.Engine.Models;

namespace ModelOps.Engine.Training;

/// <summary>
/// A full checkpoint, written after every epoch: a zip holding checkpoint.json (format, epoch, the run's
/// options, the schema with its normalization, the metrics so far, the schedule's step count and the
/// early-stopping state), model.bin (the module's state, <see cref="NN.Module.SaveState"/>),
/// optimizer.bin (moments and momentum buffers), rng.bin (the generator state) and, when early stopping
/// has a best epoch, best.bin (that epoch's module state). Training resumed from it continues with the
/// loss curve it would have had without the interruption.
/// </summary>
internal sealed record Checkpoint(
    int FormatVersion, int Epoch, TrainingOptions Options, ModelSchema Schema, IReadOnlyList<EpochMetrics> History)
{
    public const int CurrentFormat = 2;
    public long SchedulerSteps { get; init; }
    public double BestMetric { get; init; } = double.NaN;
    public int BestEpoch { get; init; }
    public int EpochsWithoutImprovement { get; init; }
    public bool StoppedEarly { get; init; }

    private const string MetadataEntry = "checkpoint.json";
    private const string ModelEntry = "model.bin";
    private const string OptimizerEntry = "optimizer.bin";
    private const string RngEntry = "rng.bin";
    private const string BestEntry = "best.bin";

    public sealed record State(byte[] Model, byte[] Optimizer, byte[] Rng, byte[]? Best);

    public static void Write(string path, Checkpoint checkpoint, State state)
    {
        string temp = path + ".tmp";
        File.Delete(temp); // left over by an interrupted write
        using (var zip = ZipFile.Open(temp, ZipArchiveMode.Create))
        {
            using (var stream = zip.CreateEntry(MetadataEntry).Open())
                JsonSerializer.Serialize(stream, checkpoint, ModelPackage.Json);
            Add(zip, ModelEntry, state.Model);
            Add(zip, OptimizerEntry, state.Optimizer);
            Add(zip, RngEntry, state.Rng);
            if (state.Best is { } best) Add(zip, BestEntry, best);
        }
        File.Move(temp, path, overwrite: true);
    }

    private static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        stream.Write(bytes);
    }

    /// <summary>Reads a checkpoint; anything truncated, corrupt or of another format is an <see cref="InvalidDataException"/>.</summary>
    public static (Checkpoint Checkpoint, State State) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint not found: {path}", path);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            Checkpoint checkpoint;
            using (var stream = Open(zip, MetadataEntry))
                checkpoint = JsonSerializer.Deserialize<Checkpoint>(stream, ModelPackage.Json) ?? throw new InvalidDataException("empty metadata");
            if (checkpoint.FormatVersion != CurrentFormat)
                throw new InvalidDataException($"checkpoint format {checkpoint.FormatVersion} is not supported (this engine reads format {CurrentFormat})");
            if (checkpoint.Options is null || checkpoint.Schema is null || checkpoint.History is null || checkpoint.Epoch < 1)
                throw new InvalidDataException("the metadata is incomplete");
            var state = new State(ReadAll(zip, ModelEntry), ReadAll(zip, OptimizerEntry), ReadAll(zip, RngEntry),
                zip.GetEntry(BestEntry) is null ? null : ReadAll(zip, BestEntry));
            return (checkpoint, state);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or IOException and not FileNotFoundException)
        {
            throw new InvalidDataException($"'{Path.GetFileName(path)}' is not a valid checkpoint: {e.Message}", e);
        }
    }

    private static Stream Open(ZipArchive zip, string name) =>
        (zip.GetEntry(name) ?? throw new InvalidDataException($"{name} is missing")).Open();

    private static byte[] ReadAll(ZipArchive zip, string name)
    {
        using var stream = Open(zip, name);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
