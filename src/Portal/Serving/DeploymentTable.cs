using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;

namespace ModelOps.Portal.Serving;

public sealed record DeployedVersion(int Id, int Version, string ArtifactPath, int RunId, string Stage);

/// <summary>What answers a model's predictions now: read from the store only when serving state changed.</summary>
public sealed record Deployment(
    int ModelId, string Name, int TeamId, DeployedVersion? Production, DeployedVersion? Canary, int CanaryPercent,
    DeployedVersion? Shadow, double DriftThreshold, int DriftWindow);

/// <summary>
/// Every model's deployment in memory, refilled as a whole when <see cref="StoreGenerations.Serving"/>
/// moved (a stage, canary or shadow changed and committed), so a predict request reads no table.
/// </summary>
public sealed class DeploymentTable(IDbContextFactory<PortalDb> dbs)
{
    private sealed record Snapshot(long Generation, IReadOnlyDictionary<string, Deployment> ByName);

    private volatile Snapshot? _snapshot;
    private readonly SemaphoreSlim _refill = new(1, 1);

    public async ValueTask<Deployment?> FindAsync(string modelName, CancellationToken ct)
    {
        var snapshot = _snapshot;
        if (snapshot is null || snapshot.Generation != StoreGenerations.Serving)
            snapshot = await RefillAsync(ct);
        return snapshot.ByName.GetValueOrDefault(modelName);
    }

    public async ValueTask<IReadOnlyCollection<Deployment>> AllAsync(CancellationToken ct)
    {
        var snapshot = _snapshot;
        if (snapshot is null || snapshot.Generation != StoreGenerations.Serving)
            snapshot = await RefillAsync(ct);
        return snapshot.ByName.Values.ToList();
    }

    private async Task<Snapshot> RefillAsync(CancellationToken ct)
    {
        await _refill.WaitAsync(ct);
        try
        {
            // The generation is read before the store: a change committed during the read bumps it again.
            var generation = StoreGenerations.Serving;
            if (_snapshot is { } current && current.Generation == generation) return current;
            await using var db = await dbs.CreateDbContextAsync(ct);
            var models = await db.RegisteredModels.AsNoTracking().Select(m => new { m.Id, m.Name, m.TeamId }).ToListAsync(ct);
            var versions = (await db.ModelVersions.AsNoTracking()
                    .Select(v => new { v.RegisteredModelId, Ref = new DeployedVersion(v.Id, v.Version, v.ArtifactPath, v.RunId, v.Stage) })
                    .ToListAsync(ct))
                .ToLookup(v => v.RegisteredModelId, v => v.Ref);
            var deployments = await db.Set<ModelDeployment>().AsNoTracking().ToDictionaryAsync(d => d.RegisteredModelId, ct);
            var byName = new Dictionary<string, Deployment>(StringComparer.Ordinal);
            foreach (var m in models)
            {
                var own = versions[m.Id].ToDictionary(v => v.Version);
                deployments.TryGetValue(m.Id, out var d);
                // A canary that left Staging since (promoted, archived) no longer takes a share.
                var canary = d?.CanaryVersion is { } c && own.GetValueOrDefault(c) is { Stage: ModelStages.Staging } staged ? staged : null;
                byName[m.Name] = new Deployment(m.Id, m.Name, m.TeamId,
                    own.Values.FirstOrDefault(v => v.Stage == ModelStages.Production),
                    canary, canary is null ? 0 : d!.CanaryPercent,
                    d?.ShadowVersion is { } s ? own.GetValueOrDefault(s) : null,
                    d?.DriftThreshold ?? ModelDeployment.DefaultDriftThreshold,
                    d?.DriftWindow ?? ModelDeployment.DefaultDriftWindow);
            }
            var snapshot = new Snapshot(generation, byName);
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _refill.Release();
        }
    }
}
