using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ModelOps.Engine.Models;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;

namespace ModelOps.Portal.Serving;

/// <summary>One answer: the class and its probabilities, or for a regression model the predicted Value (ClassIndex -1).</summary>
public sealed record PredictionView(string Label, int ClassIndex, IReadOnlyDictionary<string, double> Probabilities, double? Value = null);

public sealed record PredictResponse(string Model, int Version, IReadOnlyList<PredictionView> Predictions);

/// <summary>
/// Answers predictions from each model's current Production version. Loaded predictors are cached
/// by version id, and the Production version is looked up per request, so a promotion takes effect
/// on the next request with no restart. Input is validated against the model's schema before the
/// model is called.
/// </summary>
public sealed class PredictionService(IServiceScopeFactory scopes, DataPaths paths, ILogger<PredictionService> log) : IDisposable
{
    public const int MaxRows = 10_000;
    private readonly ConcurrentDictionary<int, Lazy<Predictor>> _loaded = new();

    public async Task<PredictResponse> PredictAsync(string modelName, JsonElement body, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var model = await db.RegisteredModels.AsNoTracking().FirstOrDefaultAsync(m => m.Name == modelName, ct)
            ?? throw PortalException.NotFound($"Model '{modelName}'");
        var version = await db.ModelVersions.AsNoTracking()
            .FirstOrDefaultAsync(v => v.RegisteredModelId == model.Id && v.Stage == ModelStages.Production, ct)
            ?? throw new PortalException(PortalError.Conflict, $"Model '{modelName}' has no version in Production; promote one first.");

        var inputs = ReadInputs(body);
        var predictor = Load(version);
        var predictions = predictor.Schema.InputKind switch
        {
            ModelSchema.Image => predictor.PredictImages(PredictionInput.Images(inputs, predictor.Schema)),
            ModelSchema.Text => predictor.PredictText(PredictionInput.Texts(inputs)),
            _ => predictor.PredictTabular(PredictionInput.Rows(inputs, predictor.Schema)),
        };
        return new PredictResponse(model.Name, version.Version,
            predictions.Select(p => new PredictionView(p.Label, p.ClassIndex, p.Probabilities, p.Value)).ToList());
    }

    private static IReadOnlyList<JsonElement> ReadInputs(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("inputs", out var inputs))
            throw PortalException.Invalid($"The body must be a JSON object with an 'inputs' array: one row (array or object) per prediction.", "inputs");
        if (inputs.ValueKind != JsonValueKind.Array)
            throw PortalException.Invalid($"'inputs' must be an array.", "inputs");
        var count = inputs.GetArrayLength();
        if (count == 0)
            throw PortalException.Invalid($"'inputs' is empty.", "inputs");
        if (count > MaxRows)
            throw PortalException.Invalid($"'inputs' holds {count} rows; at most {MaxRows} are accepted per request.", "inputs");
        return inputs.EnumerateArray().ToList();
    }

    private Predictor Load(ModelVersion version)
    {
        var lazy = _loaded.GetOrAdd(version.Id, _ => new Lazy<Predictor>(() =>
        {
            log.LogInformation("Loading model version {VersionId} from {Path}", version.Id, version.ArtifactPath);
            return Predictor.Load(paths.Resolve(version.ArtifactPath));
        }));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _loaded.TryRemove(version.Id, out _);
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var lazy in _loaded.Values)
            if (lazy.IsValueCreated) lazy.Value.Dispose();
    }
}
