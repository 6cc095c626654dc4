using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Serving;

/// <summary>One version's figures for one minute.</summary>
public sealed record ServingMinuteView(int Version, string Role, DateTime Minute, long Requests, long Errors,
    double? P50Ms, double? P95Ms, double? P99Ms, long ShadowCompared, long ShadowAgreed);

public sealed record DriftPointView(int Version, DateTime At, string Feature, double Psi, bool OverThreshold);

/// <summary>The drift picture of a model: points over time, features red now, served vs test class shares.</summary>
public sealed record DriftView(string Model, double Threshold, int Window, IReadOnlyList<DriftPointView> Points,
    IReadOnlyList<DriftFeatureState> Current, IReadOnlyList<ClassShareView> Classes);

public sealed record DriftFeatureState(int Version, string Feature, double Psi, bool Red);

public sealed record ClassShareView(int Version, string Class, double Served, double? Test);

/// <summary>
/// Reads the stored serving figures and drift of a model (the monitoring API, the serving panel and
/// the Review page call it). Access is the caller's business: the API's filter, or the page's check.
/// </summary>
public sealed class ServingMetrics(IDbContextFactory<PortalDb> dbs, DeploymentTable deployments, DriftMonitor drift)
{
    /// <summary>Per version per minute, oldest first, for minutes in [from, to) (default: the last 24 hours).</summary>
    public async Task<IReadOnlyList<ServingMinuteView>> QueryAsync(string modelName, DateTime? from, DateTime? to, CancellationToken ct)
    {
        var (start, end) = Range(from, to);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var modelId = await ModelIdAsync(db, modelName, ct);
        return await QueryAsync(db, modelId, start, end, ct);
    }

    /// <summary>The same, by registered model id.</summary>
    public async Task<IReadOnlyList<ServingMinuteView>> QueryAsync(int modelId, DateTime? from, DateTime? to, CancellationToken ct)
    {
        var (start, end) = Range(from, to);
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await QueryAsync(db, modelId, start, end, ct);
    }

    private static async Task<IReadOnlyList<ServingMinuteView>> QueryAsync(PortalDb db, int modelId, DateTime start, DateTime end, CancellationToken ct) =>
        await (from m in db.Set<ServingMinute>().AsNoTracking()
               join v in db.ModelVersions on m.ModelVersionId equals v.Id
               where v.RegisteredModelId == modelId && m.Minute >= start && m.Minute < end
               orderby m.Minute, v.Version
               select new ServingMinuteView(v.Version, m.Role, m.Minute, m.Requests, m.Errors, m.P50Ms, m.P95Ms, m.P99Ms, m.ShadowCompared, m.ShadowAgreed))
            .ToListAsync(ct);

    /// <summary>Drift points in [from, to) (default: the last 7 days), the latest state per feature, and served vs test class shares.</summary>
    public async Task<DriftView> DriftAsync(string modelName, DateTime? from, DateTime? to, CancellationToken ct)
    {
        var start = from ?? DateTime.UtcNow.AddDays(-7);
        var end = to ?? DateTime.UtcNow.AddMinutes(1);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var modelId = await ModelIdAsync(db, modelName, ct);
        var deployment = await deployments.FindAsync(modelName, ct);
        var points = await (from p in db.Set<DriftPoint>().AsNoTracking()
                            join v in db.ModelVersions on p.ModelVersionId equals v.Id
                            where v.RegisteredModelId == modelId && p.At >= start && p.At < end
                            orderby p.At, p.Id
                            select new DriftPointView(v.Version, p.At, p.Feature, p.Psi, p.OverThreshold)).ToListAsync(ct);
        var current = points.GroupBy(p => (p.Version, p.Feature)).Select(g => g.Last())
            .Select(p => new DriftFeatureState(p.Version, p.Feature, p.Psi, p.OverThreshold)).OrderBy(p => p.Version).ThenBy(p => p.Feature).ToList();
        var classes = new List<ClassShareView>();
        foreach (var version in new[] { deployment?.Production, deployment?.Canary }.OfType<DeployedVersion>())
        {
            var served = drift.ServedClassShares(version);
            if (served.Count == 0) continue;
            var baseline = await drift.BaselineAsync(version, ct);
            foreach (var (name, share) in served)
            {
                var i = Array.IndexOf(baseline.Classes, name);
                classes.Add(new ClassShareView(version.Version, name, Math.Round(share, 4),
                    baseline.ClassExpected is { } e && i >= 0 ? Math.Round(e[i], 4) : null));
            }
        }
        return new DriftView(modelName, deployment?.DriftThreshold ?? ModelDeployment.DefaultDriftThreshold,
            deployment?.DriftWindow ?? ModelDeployment.DefaultDriftWindow, points, current, classes);
    }

    private static (DateTime, DateTime) Range(DateTime? from, DateTime? to)
    {
        var end = (to ?? DateTime.UtcNow.AddMinutes(1)).ToUniversalTime();
        var start = (from ?? end.AddDays(-1)).ToUniversalTime();
        if (start >= end) throw PortalException.Invalid($"'from' must be before 'to'.", "from");
        return (start, end);
    }

    private static async Task<int> ModelIdAsync(PortalDb db, string name, CancellationToken ct) =>
        await db.RegisteredModels.Where(m => m.Name == name).Select(m => (int?)m.Id).FirstOrDefaultAsync(ct)
        ?? throw PortalException.NotFound($"Model '{name}'");
}
