using System.Text.Json;
using ModelOps.Engine.Models;
using ModelOps.Engine.Training;

namespace ModelOps.Engine.Tests;

/// <summary>
/// The files in Fixtures/legacy, made by the engine before TorchSharp (format 2 packages and checkpoints,
/// their data and that engine's predictions); Fixtures/legacy/README.md describes every file.
/// </summary>
internal static class LegacyFixtures
{
    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "legacy");

    public static readonly string[] Models =
        ["mlp-classification", "mlp-embedding", "mlp-regression", "cnn-grey", "cnn-colour", "mlp-image", "text-lstm", "text-cnn"];

    public static string File(string name)
    {
        string path = Path.Combine(Folder, name);
        Assert.True(System.IO.File.Exists(path), $"{path} is missing: the test project copies Fixtures/** to its output");
        return path;
    }

    public static JsonElement Json(string name)
    {
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(File(name)));
        return document.RootElement.Clone();
    }

    /// <summary>The run's options exactly as the old engine serialized them (options added since keep their defaults).</summary>
    public static TrainingOptions Options(JsonElement root) => root.GetProperty("options").Deserialize<TrainingOptions>(ModelPackage.Json)!;

    /// <summary>The run's dataset, its file names made absolute.</summary>
    public static DatasetFiles Dataset(JsonElement root)
    {
        var files = root.GetProperty("dataset").Deserialize<DatasetFiles>(ModelPackage.Json)!;
        string? Absolute(string? name) => name is null ? null : Path.Combine(Folder, name);
        return files with
        {
            CsvPath = Absolute(files.CsvPath),
            TrainImagesPath = Absolute(files.TrainImagesPath), TrainLabelsPath = Absolute(files.TrainLabelsPath),
            TestImagesPath = Absolute(files.TestImagesPath), TestLabelsPath = Absolute(files.TestLabelsPath),
        };
    }

    public static EpochMetrics[] History(JsonElement root, string property = "history") =>
        root.GetProperty(property).Deserialize<EpochMetrics[]>(ModelPackage.Json)!;

    /// <summary>One prediction the old engine made, with its input ready for the predictor.</summary>
    public sealed record Case(object Input, string Label, int ClassIndex, IReadOnlyDictionary<string, double> Probabilities, double? Value, double? Margin);

    public static IReadOnlyList<Case> Predictions(JsonElement root)
    {
        string method = root.GetProperty("predictMethod").GetString()!;
        return root.GetProperty("predictions").EnumerateArray().Select(p =>
        {
            var input = p.GetProperty("input");
            object value = method switch
            {
                // Tabular cells go in as the JSON elements themselves: numbers, strings and nulls (missing).
                "PredictTabular" => input.EnumerateArray().Select(e => (object?)e.Clone()).ToArray(),
                "PredictImages" => input.EnumerateArray().Select(e => e.GetSingle()).ToArray(),
                _ => input.GetString()!,
            };
            var probabilities = p.GetProperty("probabilities").EnumerateObject().ToDictionary(q => q.Name, q => q.Value.GetDouble());
            return new Case(value, p.GetProperty("label").GetString()!, p.GetProperty("classIndex").GetInt32(), probabilities,
                p.TryGetProperty("value", out var v) ? v.GetDouble() : null,
                p.TryGetProperty("margin", out var m) ? m.GetDouble() : null);
        }).ToArray();
    }

    /// <summary>Runs every case's input through <paramref name="predictor"/> in one call, as the old engine did.</summary>
    public static IReadOnlyList<Prediction> Predict(Predictor predictor, IReadOnlyList<Case> cases) => predictor.Schema.InputKind switch
    {
        ModelSchema.Tabular => predictor.PredictTabular(cases.Select(c => (IReadOnlyList<object?>)(object?[])c.Input).ToArray()),
        ModelSchema.Image => predictor.PredictImages(cases.Select(c => (float[])c.Input).ToArray()),
        _ => predictor.PredictText(cases.Select(c => (string)c.Input).ToArray()),
    };
}
