using System.Diagnostics;
using System.Text.Json;
using ModelOps.Engine.Models;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Serving;

/// <summary>One answer: the class and its probabilities, or for a regression model the predicted Value (ClassIndex -1).</summary>
public sealed record PredictionView(string Label, int ClassIndex, IReadOnlyDictionary<string, double> Probabilities, double? Value = null);

/// <param name="Version">The version that answered.</param>
/// <param name="Stage">That version's registry stage (Production, or Staging for a canary).</param>
/// <param name="Role">production or canary: which share of the traffic this request fell in.</param>
public sealed record PredictResponse(string Model, int Version, IReadOnlyList<PredictionView> Predictions, string Stage = Registry.ModelStages.Production, string Role = ServingRoles.Production);

/// <summary>
/// Answers predictions from each model's Production version, or from its canary for the canary's share
/// of the traffic. Which version that is comes from the in-memory <see cref="DeploymentTable"/>, so a
/// promotion takes effect on the next request with no restart and no table is read per request. Input
/// is validated against the answering version's schema before the model is called; the figures of the
/// version's path, the drift sample and the shadow copy are recorded after.
/// </summary>
public sealed class PredictionService(DeploymentTable deployments, PredictorCache predictors, ServingMeters meters, DriftMonitor drift, ShadowRunner shadow,
    Microsoft.Extensions.Options.IOptions<ServingOptions> options)
{
    private readonly bool _monitoring = options.Value.Monitoring;

    public const int MaxRows = 10_000;

    /// <summary>The request header whose value keeps a caller on one version while the canary's percent stays the same.</summary>
    public const string CallerHeader = "X-ModelOps-Caller";

    /// <summary>The response header naming the version that answered.</summary>
    public const string VersionHeader = "X-ModelOps-Model-Version";

    public async Task<PredictResponse> PredictAsync(string modelName, JsonElement body, CancellationToken ct, string? callerKey = null)
    {
        var deployment = await deployments.FindAsync(modelName, ct) ?? throw PortalException.NotFound($"Model '{modelName}'");
        if (deployment.Production is null)
            throw new PortalException(PortalError.Conflict, $"Model '{modelName}' has no version in Production; promote one first.");
        var (version, role) = Route(deployment, callerKey);

        var started = Stopwatch.GetTimestamp();
        IReadOnlyList<JsonElement> inputs;
        IReadOnlyList<IReadOnlyList<object?>>? rows = null;
        IReadOnlyList<Prediction> predictions;
        try
        {
            inputs = ReadInputs(body);
            var predictor = predictors.Load(version);
            switch (predictor.Schema.InputKind)
            {
                case ModelSchema.Image:
                    predictions = predictor.PredictImages(PredictionInput.Images(inputs, predictor.Schema));
                    break;
                case ModelSchema.Text:
                    predictions = predictor.PredictText(PredictionInput.Texts(inputs));
                    break;
                default:
                    rows = PredictionInput.Rows(inputs, predictor.Schema);
                    predictions = predictor.PredictTabular(rows);
                    break;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (_monitoring) meters.Record(version.Id, role, Stopwatch.GetElapsedTime(started).TotalMilliseconds, error: true);
            throw;
        }
        if (_monitoring)
        {
            meters.Record(version.Id, role, Stopwatch.GetElapsedTime(started).TotalMilliseconds, error: false);
            drift.Observe(version.Id, deployment.DriftWindow, rows, predictions);
            if (deployment.Shadow is { } challenger && challenger.Id != version.Id)
                shadow.Offer(challenger, inputs, predictions);
        }

        var views = new PredictionView[predictions.Count];
        for (var i = 0; i < views.Length; i++)
        {
            var p = predictions[i];
            views[i] = new PredictionView(p.Label, p.ClassIndex, p.Probabilities, p.Value);
        }
        return new PredictResponse(deployment.Name, version.Version, views, version.Stage, role);
    }

    /// <summary>
    /// The canary's share: a caller key hashes to a stable point in 0-99 (FNV-1a, the same in every
    /// process), below the percent goes to the canary; without a key a random draw decides.
    /// </summary>
    public static (DeployedVersion Version, string Role) Route(Deployment deployment, string? callerKey)
    {
        if (deployment.Canary is not { } canary || deployment.CanaryPercent <= 0) return (deployment.Production!, ServingRoles.Production);
        var point = string.IsNullOrEmpty(callerKey) ? Random.Shared.Next(100) : (int)(StableHash(callerKey) % 100);
        return point < deployment.CanaryPercent ? (canary, ServingRoles.Canary) : (deployment.Production!, ServingRoles.Production);
    }

    public static uint StableHash(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ (byte)c) * 16777619u;
            hash = (hash ^ (byte)(c >> 8)) * 16777619u;
        }
        // FNV's low bits mix poorly for short keys; fold the high half in before taking a remainder.
        return hash ^ (hash >> 16);
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
        var list = new JsonElement[count];
        var i = 0;
        foreach (var input in inputs.EnumerateArray()) list[i++] = input;
        return list;
    }
}
