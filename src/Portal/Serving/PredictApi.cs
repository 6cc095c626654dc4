using System.Text.Json;

namespace ModelOps.Portal.Serving;

public sealed record CanaryRequest(int Version, int Percent);

public sealed record ShadowRequest(int Version);

public sealed record MonitoringRequest(double DriftThreshold = ModelDeployment.DefaultDriftThreshold, int Window = ModelDeployment.DefaultDriftWindow);

public static class PredictApi
{
    public static RouteGroupBuilder MapPredictApi(this RouteGroupBuilder api)
    {
        api.MapPost("/models/{name}/predict", Predict).WithTags("Serving")
            // Calling a deployed model reads it: a Viewer (or a read-only token) may.
            .WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Viewer));
        var serving = api.MapGroup("/models").WithTags("Serving");
        serving.MapGet("/{name}/serving", (string name, ServingService s, CancellationToken ct) => s.GetAsync(name, ct));
        // Moving traffic onto a version that is not Production is a manager's call, like a promotion.
        serving.MapPut("/{name}/canary", (string name, CanaryRequest r, ServingService s, CancellationToken ct) => s.SetCanaryAsync(name, r.Version, r.Percent, ct))
            .WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Approver));
        serving.MapDelete("/{name}/canary", (string name, ServingService s, CancellationToken ct) => s.DropCanaryAsync(name, ct))
            .WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Approver));
        serving.MapPost("/{name}/canary/promote", (string name, ServingService s, CancellationToken ct) => s.PromoteCanaryAsync(name, ct))
            .WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Approver));
        // A shadow's answers are never returned: an Editor may set or drop one.
        serving.MapPut("/{name}/shadow", (string name, ShadowRequest r, ServingService s, CancellationToken ct) => s.SetShadowAsync(name, r.Version, ct))
            .WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Editor));
        serving.MapDelete("/{name}/shadow", (string name, ServingService s, CancellationToken ct) => s.SetShadowAsync(name, null, ct))
            .WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Editor));
        serving.MapPut("/{name}/monitoring", (string name, MonitoringRequest r, ServingService s, CancellationToken ct) => s.SetMonitoringAsync(name, r.DriftThreshold, r.Window, ct))
            .WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Editor));
        serving.MapGet("/{name}/monitoring", (string name, DateTime? from, DateTime? to, ServingMetrics m, CancellationToken ct) => m.QueryAsync(name, from, to, ct));
        serving.MapGet("/{name}/drift", (string name, DateTime? from, DateTime? to, ServingMetrics m, CancellationToken ct) => m.DriftAsync(name, from, to, ct));
        return api;
    }

    /// <summary>
    /// Body: {"inputs": [row, ...]}. A tabular row is an array of feature values in schema order or an
    /// object keyed by feature name; an image row is 784 pixel values 0-255 (flat or 28 rows of 28).
    /// A caller key in X-ModelOps-Caller keeps that caller on one version while a canary runs;
    /// X-ModelOps-Model-Version in the response names the version that answered.
    /// </summary>
    public static async Task<PredictResponse> Predict(string name, JsonElement body, HttpContext http, PredictionService predictions, CancellationToken ct)
    {
        var caller = http.Request.Headers[PredictionService.CallerHeader];
        var answer = await predictions.PredictAsync(name, body, ct, caller.Count > 0 ? caller[0] : null);
        http.Response.Headers[PredictionService.VersionHeader] = answer.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return answer;
    }
}
