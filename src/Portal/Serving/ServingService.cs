using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;

namespace ModelOps.Portal.Serving;

/// <summary>What a model's serving looks like now, for the API and the panel.</summary>
public sealed record DeploymentView(string Model, int? ProductionVersion, int? CanaryVersion, int CanaryPercent, int? ShadowVersion,
    double DriftThreshold, int DriftWindow, long ShadowDropped, DateTime? UpdatedAt, string? UpdatedBy);

/// <summary>Changes a model's canary, shadow and drift settings, each in one audited SaveChanges. Access is checked by the caller.</summary>
public sealed class ServingService(PortalDb db, WriteGate gate, CurrentUser user, RegistryService registry, ServingMeters meters)
{
    public async Task<DeploymentView> GetAsync(string modelName, CancellationToken ct)
    {
        var model = await ModelAsync(modelName, ct);
        var d = await db.Set<ModelDeployment>().AsNoTracking().FirstOrDefaultAsync(x => x.RegisteredModelId == model.Id, ct);
        var production = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModelId == model.Id && v.Stage == ModelStages.Production)
            .Select(v => (int?)v.Version).FirstOrDefaultAsync(ct);
        return new DeploymentView(model.Name, production, d?.CanaryVersion, d?.CanaryVersion is null ? 0 : d.CanaryPercent, d?.ShadowVersion,
            d?.DriftThreshold ?? ModelDeployment.DefaultDriftThreshold, d?.DriftWindow ?? ModelDeployment.DefaultDriftWindow,
            Interlocked.Read(ref meters.ShadowDroppedTotal), d?.UpdatedAt, d?.UpdatedBy);
    }

    public async Task<DeploymentView> SetCanaryAsync(string modelName, int version, int percent, CancellationToken ct)
    {
        if (percent is < 1 or > 99)
            throw PortalException.Invalid($"A canary takes 1 to 99 percent of the traffic, not {percent}.", "percent");
        await ChangeAsync(modelName, async (model, d) =>
        {
            var stage = await StageOfAsync(model, version, ct);
            if (stage != ModelStages.Staging)
                throw new PortalException(PortalError.Conflict, $"Version {version} of model '{modelName}' is {stage}; only a Staging version can be a canary.", "version");
            var before = Describe(d.CanaryVersion, d.CanaryPercent);
            d.CanaryVersion = version;
            d.CanaryPercent = percent;
            return ("model.canary.set", $"v{version} takes {percent}% of the traffic", before, Describe(version, percent));
        }, ct);
        return await GetAsync(modelName, ct);
    }

    public async Task<DeploymentView> DropCanaryAsync(string modelName, CancellationToken ct)
    {
        await ChangeAsync(modelName, (model, d) =>
        {
            var before = Describe(d.CanaryVersion, d.CanaryPercent);
            d.CanaryVersion = null;
            d.CanaryPercent = 0;
            return Task.FromResult(("model.canary.dropped", "Production answers all traffic", before, "none"));
        }, ct);
        return await GetAsync(modelName, ct);
    }

    /// <summary>Promotes the canary to Production (the registry archives the previous one) and clears the canary.</summary>
    public async Task<DeploymentView> PromoteCanaryAsync(string modelName, CancellationToken ct)
    {
        var model = await ModelAsync(modelName, ct);
        var canary = await db.Set<ModelDeployment>().AsNoTracking().Where(x => x.RegisteredModelId == model.Id).Select(x => x.CanaryVersion).FirstOrDefaultAsync(ct)
            ?? throw new PortalException(PortalError.Conflict, $"Model '{modelName}' has no canary to promote.");
        await registry.PromoteAsync(model.Name, canary, ModelStages.Production, ct, why: "canary promoted");
        db.ChangeTracker.Clear();
        await ChangeAsync(modelName, (m, d) =>
        {
            d.CanaryVersion = null;
            d.CanaryPercent = 0;
            return Task.FromResult(("model.canary.promoted", $"v{canary} promoted to Production", Describe(canary, 0), "none"));
        }, ct);
        return await GetAsync(modelName, ct);
    }

    public async Task<DeploymentView> SetShadowAsync(string modelName, int? version, CancellationToken ct)
    {
        await ChangeAsync(modelName, async (model, d) =>
        {
            if (version is { } v) await StageOfAsync(model, v, ct);
            var before = d.ShadowVersion is { } s ? $"v{s}" : "none";
            d.ShadowVersion = version;
            return (version is null ? "model.shadow.dropped" : "model.shadow.set",
                version is null ? "no shadow" : $"v{version} gets a copy of the traffic", before, version is null ? "none" : $"v{version}");
        }, ct);
        return await GetAsync(modelName, ct);
    }

    public async Task<DeploymentView> SetMonitoringAsync(string modelName, double threshold, int window, CancellationToken ct)
    {
        if (!double.IsFinite(threshold) || threshold <= 0 || threshold > 10)
            throw PortalException.Invalid($"The drift threshold is a PSI above 0 and at most 10, not {threshold}.", "driftThreshold");
        if (window is < 10 or > 100_000)
            throw PortalException.Invalid($"The drift window holds 10 to 100000 rows, not {window}.", "window");
        await ChangeAsync(modelName, (model, d) =>
        {
            var before = FormattableString.Invariant($"PSI {d.DriftThreshold}, {d.DriftWindow} rows");
            d.DriftThreshold = threshold;
            d.DriftWindow = window;
            return Task.FromResult(("model.monitoring.set", "drift settings", before, FormattableString.Invariant($"PSI {threshold}, {window} rows")));
        }, ct);
        return await GetAsync(modelName, ct);
    }

    private static string Describe(int? version, int percent) => version is { } v ? $"v{v} at {percent}%" : "none";

    private async Task ChangeAsync(string modelName, Func<RegisteredModel, ModelDeployment, Task<(string Action, string Details, string Before, string After)>> change, CancellationToken ct)
    {
        await using var writing = await gate.EnterAsync(db, ct);
        var model = await ModelAsync(modelName, ct);
        var d = await db.Set<ModelDeployment>().FirstOrDefaultAsync(x => x.RegisteredModelId == model.Id, ct);
        if (d is null)
        {
            d = new ModelDeployment { RegisteredModelId = model.Id, UpdatedBy = user.Name };
            db.Set<ModelDeployment>().Add(d);
        }
        var (action, details, before, after) = await change(model, d);
        d.UpdatedAt = DateTime.UtcNow;
        d.UpdatedBy = user.Name;
        db.AuditEvents.Add(new AuditEvent { At = d.UpdatedAt, Actor = user.Name, Action = action, Subject = $"model:{model.Name}", TeamId = model.TeamId, Details = details, Before = before, After = after });
        await db.SaveChangesAsync(ct);
    }

    private async Task<RegisteredModel> ModelAsync(string name, CancellationToken ct) =>
        await db.RegisteredModels.AsNoTracking().FirstOrDefaultAsync(m => m.Name == name, ct) ?? throw PortalException.NotFound($"Model '{name}'");

    private async Task<string> StageOfAsync(RegisteredModel model, int version, CancellationToken ct) =>
        await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModelId == model.Id && v.Version == version).Select(v => v.Stage).FirstOrDefaultAsync(ct)
        ?? throw PortalException.NotFound($"Version {version} of model '{model.Name}'");
}
