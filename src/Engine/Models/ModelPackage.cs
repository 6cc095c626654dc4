using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelOps.Engine.Models;

/// <summary>
/// The single-file model package: a zip holding model.json (format version and <see cref="ModelSchema"/>)
/// and weights.bin (the module's state in the engine's own format, <see cref="NN.Module.SaveState"/>).
/// Format 2 added regression, text models and the architecture record; format 1 packages (written
/// before the module state had its own format) are refused with a message that says to retrain.
/// </summary>
public static class ModelPackage
{
    public const int FormatVersion = 2;
    public const string FileExtension = ".mopkg";
    private const string SchemaEntry = "model.json";
    private const string WeightsEntry = "weights.bin";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Metrics of an empty validation split are NaN.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private sealed record Manifest(int FormatVersion, ModelSchema Schema);

    public static void Write(string path, ModelSchema schema, byte[] weights)
    {
        string temp = path + ".tmp";
        File.Delete(temp); // left over by an interrupted write
        using (var zip = ZipFile.Open(temp, ZipArchiveMode.Create))
        {
            using (var stream = zip.CreateEntry(SchemaEntry).Open())
                JsonSerializer.Serialize(stream, new Manifest(FormatVersion, schema), Json);
            using (var stream = zip.CreateEntry(WeightsEntry, CompressionLevel.Fastest).Open())
                stream.Write(weights);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads the schema and weights; throws <see cref="InvalidDataException"/> for anything that is not a valid package.</summary>
    public static (ModelSchema Schema, byte[] Weights) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model package not found: {path}", path);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var manifestEntry = zip.GetEntry(SchemaEntry) ?? throw new InvalidDataException($"{SchemaEntry} is missing");
            var weightsEntry = zip.GetEntry(WeightsEntry) ?? throw new InvalidDataException($"{WeightsEntry} is missing");
            Manifest manifest;
            using (var stream = manifestEntry.Open())
                manifest = JsonSerializer.Deserialize<Manifest>(stream, Json) ?? throw new InvalidDataException($"{SchemaEntry} is empty");
            if (manifest.FormatVersion == 1)
                throw new InvalidDataException("package format 1 came from an older engine whose weights this one cannot read; retrain the model");
            if (manifest.FormatVersion != FormatVersion)
                throw new InvalidDataException($"package format version {manifest.FormatVersion} is not supported (expected {FormatVersion})");
            Validate(manifest.Schema);
            using var weights = new MemoryStream();
            using (var stream = weightsEntry.Open()) stream.CopyTo(weights);
            return (manifest.Schema, weights.ToArray());
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{Path.GetFileName(path)}' is not a valid model package: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{Path.GetFileName(path)}' is not a valid model package: {SchemaEntry} is malformed ({e.Message})", e);
        }
    }

    private static void Validate(ModelSchema? schema)
    {
        if (schema is null) throw new InvalidDataException("the schema is missing");
        if (schema.Architecture is null) throw new InvalidDataException("the architecture is missing");
        if (schema.Task == "regression")
        {
            if (schema.InputKind != ModelSchema.Tabular) throw new InvalidDataException("regression packages take tabular input");
        }
        else if (schema.Task != "classification")
        {
            throw new InvalidDataException($"unknown task '{schema.Task}'");
        }
        else if (schema.ClassNames is null || schema.ClassNames.Count < 2)
        {
            throw new InvalidDataException("the schema needs at least two class names");
        }
        if (schema.InputKind == ModelSchema.Image)
        {
            if (schema.ImageShape is not { Length: 3 } || schema.ImageShape.Any(d => d < 1) || schema.ImageShape[0] > 4)
                throw new InvalidDataException("an image schema needs ImageShape [channels (1-4), height, width]");
        }
        else if (schema.InputKind == ModelSchema.Text)
        {
            if (schema.Vocabulary is not { Count: >= 2 } || schema.MaxTokens < 1)
                throw new InvalidDataException("a text schema needs a vocabulary and MaxTokens");
        }
        else if (schema.InputKind == ModelSchema.Tabular)
        {
            if (schema.Features is null || schema.Features.Count == 0) throw new InvalidDataException("a tabular schema needs features");
        }
        else
        {
            throw new InvalidDataException($"unknown input kind '{schema.InputKind}'");
        }
    }
}
