using System.IO.Compression;
using System.Text.Json;
using ModelOps.Engine.Models;

namespace ModelOps.Engine.Training;

/// <summary>
/// A full checkpoint, written after every epoch: a zip holding checkpoint.json (format, epoch, the run's
/// options, the schema with its normalization, the metrics so far, the schedule's step count, the
/// early-stopping state, the cross-validation results and the checksum of every other entry),
/// model.dat (the module's state in TorchSharp's format), optimizer.dat (TorchSharp's optimizer state:
/// moments and momentum buffers) and, when early stopping has a best epoch, best.dat. Training resumed
/// from it continues with the loss curve it would have had without the interruption (every epoch
/// re-seeds the generators, so no random state needs keeping).
/// </summary>
/// <remarks>
/// Format 2 checkpoints (the engine before TorchSharp) are still read: their model weights (MOSD),
/// epoch, history, schedule position and early-stopping state resume the run, but their optimizer state
/// is libtorch 1.13's own archive, which TorchSharp cannot read, so the optimizer's moments start afresh
/// and <see cref="State.OptimizerRestored"/> is false.
/// </remarks>
internal sealed record Checkpoint(
    int FormatVersion, int Epoch, TrainingOptions Options, ModelSchema Schema, IReadOnlyList<EpochMetrics> History)
{
    public const int CurrentFormat = 3;
    public long SchedulerSteps { get; init; }
    public double BestMetric { get; init; } = double.NaN;
    public int BestEpoch { get; init; }
    public int EpochsWithoutImprovement { get; init; }
    public bool StoppedEarly { get; init; }
    /// <summary>The folds' results when the run cross-validates; a resumed run does not repeat them.</summary>
    public CrossValidationReport? CrossValidation { get; init; }
    public IReadOnlyList<EntryChecksum>? Entries { get; init; }

    private const string MetadataEntry = "checkpoint.json";
    private const string ModelEntry = "model.dat";
    private const string OptimizerEntry = "optimizer.dat";
    private const string BestEntry = "best.dat";

    public sealed record State(ModelWeights Model, byte[]? Optimizer, ModelWeights? Best)
    {
        public bool OptimizerRestored => Optimizer is not null;
    }

    public static void Write(string path, Checkpoint checkpoint, byte[] model, byte[] optimizer, byte[]? best)
    {
        Packaging.WriteAtomically(path, zip =>
        {
            var entries = new List<EntryChecksum> { Packaging.Add(zip, ModelEntry, model), Packaging.Add(zip, OptimizerEntry, optimizer) };
            if (best is not null) entries.Add(Packaging.Add(zip, BestEntry, best));
            using var stream = zip.CreateEntry(MetadataEntry).Open();
            JsonSerializer.Serialize(stream, checkpoint with { FormatVersion = CurrentFormat, Entries = entries }, ModelPackage.Json);
        });
    }

    /// <summary>Reads a checkpoint; anything truncated, corrupt or of another format is an <see cref="InvalidDataException"/>.</summary>
    public static (Checkpoint Checkpoint, State State) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint not found: {path}", path);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var checkpoint = JsonSerializer.Deserialize<Checkpoint>(Packaging.Read(zip, MetadataEntry, maxLength: ModelPackage.MaxManifestBytes), ModelPackage.Json)
                ?? throw new InvalidDataException("empty metadata");
            if (checkpoint.Options is null || checkpoint.Schema is null || checkpoint.History is null || checkpoint.Epoch < 1)
                throw new InvalidDataException("the metadata is incomplete");
            if (checkpoint.FormatVersion == 2)
            {
                var legacyBest = zip.GetEntry("best.bin") is null ? null : new ModelWeights(WeightsFormat.Mosd, Packaging.Read(zip, "best.bin"));
                return (checkpoint, new State(new ModelWeights(WeightsFormat.Mosd, Packaging.Read(zip, "model.bin")), null, legacyBest));
            }
            if (checkpoint.FormatVersion != CurrentFormat)
                throw new InvalidDataException($"checkpoint format {checkpoint.FormatVersion} is not supported (this engine reads formats 2 and {CurrentFormat})");
            EntryChecksum Expected(string name) => checkpoint.Entries?.FirstOrDefault(e => e.Entry == name)
                ?? throw new InvalidDataException($"the checksum of {name} is missing");
            var best = zip.GetEntry(BestEntry) is null ? null
                : new ModelWeights(WeightsFormat.TorchSharp, Packaging.Read(zip, BestEntry, Expected(BestEntry)));
            var state = new State(
                new ModelWeights(WeightsFormat.TorchSharp, Packaging.Read(zip, ModelEntry, Expected(ModelEntry))),
                Packaging.Read(zip, OptimizerEntry, Expected(OptimizerEntry)),
                best);
            return (checkpoint, state);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or IOException and not FileNotFoundException)
        {
            throw new InvalidDataException($"'{Path.GetFileName(path)}' is not a valid checkpoint: {e.Message}", e);
        }
    }
}
