using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelOps.Engine.Models;

/// <summary>
/// The single-file model package: a zip holding model.json (format version, <see cref="ModelSchema"/> and
/// the checksum of the weights) and weights.dat (the module's state in TorchSharp's format: unzipped, it
/// loads with TorchSharp's <c>Module.load</c>). Format 3 is TorchSharp's; format 2 packages (weights.bin in
/// MOSD, written by the engine before TorchSharp) are still read, so models registered before the
/// upgrade keep serving. Format 1 packages are refused with a message that says to retrain.
/// </summary>
public static class ModelPackage
{
    public const int FormatVersion = 3;
    public const string FileExtension = ".mopkg";
    private const string SchemaEntry = "model.json";
    private const string WeightsEntry = "weights.dat";
    private const string LegacyWeightsEntry = "weights.bin";
    /// <summary>A vocabulary of a million tokens fits well within this.</summary>
    internal const long MaxManifestBytes = 256L << 20;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Metrics of an empty validation split are NaN.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private sealed record Manifest(int FormatVersion, ModelSchema Schema)
    {
        public EntryChecksum? Weights { get; init; }
    }

    public static void Write(string path, ModelSchema schema, byte[] torchSharpWeights)
    {
        Packaging.WriteAtomically(path, zip =>
        {
            var weights = Packaging.Add(zip, WeightsEntry, torchSharpWeights);
            using var stream = zip.CreateEntry(SchemaEntry).Open();
            JsonSerializer.Serialize(stream, new Manifest(FormatVersion, schema) { Weights = weights }, Json);
        });
    }

    /// <summary>Reads the schema and weights; throws <see cref="InvalidDataException"/> for anything that is not a valid package.</summary>
    public static (ModelSchema Schema, ModelWeights Weights) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model package not found: {path}", path);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var manifest = JsonSerializer.Deserialize<Manifest>(Packaging.Read(zip, SchemaEntry, maxLength: MaxManifestBytes), Json)
                ?? throw new InvalidDataException($"{SchemaEntry} is empty");
            if (manifest.FormatVersion == 1)
                throw new InvalidDataException("package format 1 came from an older engine whose weights this one cannot read; retrain the model");
            Validate(manifest.Schema);
            return manifest.FormatVersion switch
            {
                // MOSD carries its own CRC-32, checked by its reader.
                2 => (manifest.Schema, new ModelWeights(WeightsFormat.Mosd, Packaging.Read(zip, LegacyWeightsEntry))),
                FormatVersion => (manifest.Schema, new ModelWeights(WeightsFormat.TorchSharp,
                    Packaging.Read(zip, WeightsEntry, manifest.Weights ?? throw new InvalidDataException("the weights' checksum is missing")))),
                _ => throw new InvalidDataException($"package format version {manifest.FormatVersion} is not supported (this engine reads 2 and {FormatVersion})"),
            };
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
        if (!ModelTemplates.Names.Contains(schema.Template)) throw new InvalidDataException($"unknown template '{schema.Template}'");
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
