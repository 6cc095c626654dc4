using System.IO.Compression;
using System.Text.Json;
using ModelOps.Engine.Models;

namespace ModelOps.Engine.Training;

/// <summary>
/// One epoch's checkpoint: a zip with checkpoint.json (epoch, the options that shape the data and
/// model, the schema with its normalization, the metrics so far), model.bin and optimizer.bin.
/// </summary>
internal sealed record Checkpoint(
    int FormatVersion, int Epoch, string Template, string Optimizer, long Seed, ModelSchema Schema, IReadOnlyList<EpochMetrics> History)
{
    public const int CurrentFormat = 1;
    private const string MetadataEntry = "checkpoint.json";
    private const string ModelEntry = "model.bin";
    private const string OptimizerEntry = "optimizer.bin";

    public static void Write(string path, Checkpoint checkpoint, byte[] modelState, byte[] optimizerState)
    {
        string temp = path + ".tmp";
        File.Delete(temp); // left over by an interrupted write
        using (var zip = ZipFile.Open(temp, ZipArchiveMode.Create))
        {
            using (var stream = zip.CreateEntry(MetadataEntry).Open())
                JsonSerializer.Serialize(stream, checkpoint, ModelPackage.Json);
            using (var stream = zip.CreateEntry(ModelEntry, CompressionLevel.Fastest).Open()) stream.Write(modelState);
            using (var stream = zip.CreateEntry(OptimizerEntry, CompressionLevel.Fastest).Open()) stream.Write(optimizerState);
        }
        File.Move(temp, path, overwrite: true);
    }

    public static (Checkpoint Checkpoint, byte[] ModelState, byte[] OptimizerState) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint not found: {path}", path);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            Checkpoint checkpoint;
            using (var stream = Open(zip, MetadataEntry))
                checkpoint = JsonSerializer.Deserialize<Checkpoint>(stream, ModelPackage.Json) ?? throw new InvalidDataException("empty metadata");
            if (checkpoint.FormatVersion != CurrentFormat)
                throw new InvalidDataException($"checkpoint format {checkpoint.FormatVersion} is not supported");
            return (checkpoint, ReadAll(zip, ModelEntry), ReadAll(zip, OptimizerEntry));
        }
        catch (Exception e) when (e is InvalidDataException or JsonException)
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
