using System.Text.Json;

namespace ModelOps.Portal.Serving;

public static class PredictApi
{
    public static RouteGroupBuilder MapPredictApi(this RouteGroupBuilder api)
    {
        api.MapPost("/models/{name}/predict", Predict).WithTags("Serving")
            // Calling a deployed model reads it: a Viewer (or a read-only token) may.
            .WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Viewer));
        return api;
    }

    /// <summary>
    /// Body: {"inputs": [row, ...]}. A tabular row is an array of feature values in schema order or an
    /// object keyed by feature name; an image row is 784 pixel values 0-255 (flat or 28 rows of 28).
    /// </summary>
    public static Task<PredictResponse> Predict(string name, JsonElement body, PredictionService predictions, CancellationToken ct) =>
        predictions.PredictAsync(name, body, ct);
}
