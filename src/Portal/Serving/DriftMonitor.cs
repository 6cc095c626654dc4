using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Engine.Models;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Serving;

/// <summary>
/// Keeps the latest served rows of each answering version in a ring (a slot write per row, no lock),
/// and on each flush compares them with the version's training data by PSI per feature, and the
/// predicted classes with the test split's classes. A feature crossing the model's threshold turns
/// red, once: one audit event and one drift.over_threshold event per crossing.
/// </summary>
public sealed class DriftMonitor(IDbContextFactory<PortalDb> dbs, WriteGate gate, DataPaths paths, PredictorCache predictors, IOptions<ServingOptions> options, ILogger<DriftMonitor> log)
{
    private sealed class Sample(int window)
    {
        public readonly int Window = window;
        public readonly IReadOnlyList<object?>?[] Rows = new IReadOnlyList<object?>?[window];
        public readonly int[] Classes = new int[window];
        public long Written;
        public long EvaluatedAt;
    }

    private readonly ConcurrentDictionary<int, Sample> _samples = new();
    private readonly ConcurrentDictionary<int, DriftBaseline> _baselines = new();
    private readonly ConcurrentDictionary<(int Version, string Feature), bool> _red = new();

    public void Observe(int versionId, int window, IReadOnlyList<IReadOnlyList<object?>>? rows, IReadOnlyList<Prediction> predictions)
    {
        window = Math.Clamp(window, 10, 100_000);
        var sample = _samples.GetOrAdd(versionId, static (_, w) => new Sample(w), window);
        if (sample.Window != window)
        {
            var resized = new Sample(window);
            sample = _samples.TryUpdate(versionId, resized, sample) ? resized : _samples[versionId];
        }
        var start = Math.Max(0, predictions.Count - sample.Window);
        for (var i = start; i < predictions.Count; i++)
        {
            var slot = (int)((Interlocked.Increment(ref sample.Written) - 1) % sample.Window);
            sample.Rows[slot] = rows?[i];
            sample.Classes[slot] = predictions[i].ClassIndex;
        }
    }

    /// <summary>Which features of the version are red now (as of the last evaluation).</summary>
    public IReadOnlyList<string> RedFeatures(int versionId) =>
        _red.Where(p => p.Key.Version == versionId && p.Value).Select(p => p.Key.Feature).Order().ToList();

    /// <summary>Evaluates every answering version with enough new rows; returns the points written.</summary>
    public async Task<int> EvaluateAsync(IReadOnlyCollection<Deployment> deployments, CancellationToken ct)
    {
        var written = 0;
        foreach (var d in deployments)
            foreach (var (version, _) in new[] { (d.Production, ServingRoles.Production), (d.Canary, ServingRoles.Canary) })
            {
                if (version is null || !_samples.TryGetValue(version.Id, out var sample)) continue;
                var count = Interlocked.Read(ref sample.Written);
                var filled = (int)Math.Min(count, sample.Window);
                if (count == sample.EvaluatedAt || filled < Math.Min(sample.Window, options.Value.DriftMinRows)) continue;
                sample.EvaluatedAt = count;
                try
                {
                    written += await EvaluateAsync(d, version, sample, filled, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "Drift evaluation of {Model} v{Version} failed", d.Name, version.Version);
                }
            }
        return written;
    }

    private async Task<int> EvaluateAsync(Deployment d, DeployedVersion version, Sample sample, int filled, CancellationToken ct)
    {
        var baseline = await BaselineAsync(version, ct);
        var points = new List<(string Feature, double Psi)>();
        var rows = new List<IReadOnlyList<object?>>(filled);
        var classes = new int[filled];
        for (var i = 0; i < filled; i++)
        {
            if (sample.Rows[i] is { } row) rows.Add(row);
            classes[i] = sample.Classes[i];
        }
        var schema = predictors.Load(version).Schema;
        foreach (var feature in baseline.Features)
        {
            var index = schema.Features.Select((f, i) => (f.Name, i)).FirstOrDefault(x => x.Name == feature.Name).i;
            if (rows.Count == 0) break;
            var actual = DriftBaseline.Shares(rows.Select(r => feature.BinOf(r[index])), feature.Bins);
            points.Add((feature.Name, DriftBaseline.Psi(feature.Expected, actual)));
        }
        if (baseline.ClassExpected is { } expected)
        {
            // Served class indices follow the model's class names; the baseline's follow the evaluation's.
            var map = schema.ClassNames.Select(n => Array.IndexOf(baseline.Classes, n)).ToArray();
            var actual = DriftBaseline.Shares(classes.Select(c => c >= 0 && c < map.Length ? map[c] : -1), expected.Length);
            points.Add((DriftBaseline.PredictedClass, DriftBaseline.Psi(expected, actual)));
        }
        if (points.Count == 0) return 0;

        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var writing = await gate.EnterAsync(db, ct);
        var now = DateTime.UtcNow;
        foreach (var (feature, psi) in points)
        {
            var over = psi > d.DriftThreshold;
            var key = (version.Id, feature);
            var wasRed = _red.TryGetValue(key, out var red) ? red
                : await db.Set<DriftPoint>().Where(p => p.ModelVersionId == version.Id && p.Feature == feature).OrderByDescending(p => p.Id).Select(p => p.OverThreshold).FirstOrDefaultAsync(ct);
            _red[key] = over;
            db.Set<DriftPoint>().Add(new DriftPoint { ModelVersionId = version.Id, At = now, Feature = feature, Psi = Math.Round(psi, 6), OverThreshold = over });
            if (over && !wasRed)
            {
                var subject = $"model:{d.Name}:v{version.Version}";
                db.AuditEvents.Add(new AuditEvent
                {
                    At = now, Actor = "system", Action = "model.drift.over_threshold", Subject = subject, TeamId = d.TeamId,
                    Details = FormattableString.Invariant($"{feature}: PSI {psi:0.###} > {d.DriftThreshold:0.###}"),
                });
                Notifications.PortalEvents.Raise(db, d.TeamId, Notifications.EventTypes.DriftOverThreshold, subject, "system",
                    new { model = d.Name, version = version.Version, feature, psi = Math.Round(psi, 6), threshold = d.DriftThreshold });
            }
        }
        await db.SaveChangesAsync(ct);
        return points.Count;
    }

    /// <summary>The version's baseline: from the store, or computed from its run's dataset and evaluation and stored.</summary>
    public async Task<DriftBaseline> BaselineAsync(DeployedVersion version, CancellationToken ct)
    {
        if (_baselines.TryGetValue(version.Id, out var cached)) return cached;
        await using var db = await dbs.CreateDbContextAsync(ct);
        var stored = await db.Set<DriftBaselineRow>().AsNoTracking().FirstOrDefaultAsync(b => b.ModelVersionId == version.Id, ct);
        if (stored is not null)
            return _baselines[version.Id] = JsonSerializer.Deserialize<DriftBaseline>(stored.Json, JsonSerializerOptions.Web)!;

        var schema = predictors.Load(version).Schema;
        var run = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == version.RunId, ct);
        IReadOnlyList<FeatureBaseline> features = [];
        if (schema.InputKind == ModelSchema.Tabular && run.DatasetVersionId is { } dv)
        {
            var storage = await db.DatasetVersions.AsNoTracking().Where(v => v.Id == dv).Select(v => v.StoragePath).FirstAsync(ct);
            var csv = Path.Combine(paths.Resolve(storage), Datasets.DatasetFileRoles.Csv);
            if (File.Exists(csv))
            {
                var table = global::ModelOps.Engine.Data.CsvTable.Read(csv);
                features = DriftBaseline.FromTraining(schema, table.Header, table.Rows);
            }
        }
        var evaluation = Runs.RunEvaluation.From(run);
        double[]? classExpected = null;
        var classNames = evaluation?.ClassNames ?? [];
        if (evaluation is { IsRegression: false, ConfusionMatrix.Length: > 0 })
        {
            // Row sums of the confusion matrix are the test split's true class counts.
            var sums = evaluation.ConfusionMatrix.Select(r => (double)r.Sum()).ToArray();
            var total = sums.Sum();
            if (total > 0) classExpected = sums.Select(s => s / total).ToArray();
        }
        var baseline = new DriftBaseline(features, classNames, classExpected);
        await using (var writing = await gate.EnterAsync(db, ct))
        {
            db.Set<DriftBaselineRow>().Add(new DriftBaselineRow { ModelVersionId = version.Id, Json = JsonSerializer.Serialize(baseline, JsonSerializerOptions.Web), CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(ct);
        }
        return _baselines[version.Id] = baseline;
    }

    /// <summary>The served predicted-class shares of the version's current window, by class name.</summary>
    public IReadOnlyDictionary<string, double> ServedClassShares(DeployedVersion version)
    {
        if (!_samples.TryGetValue(version.Id, out var sample)) return new Dictionary<string, double>();
        var filled = (int)Math.Min(Interlocked.Read(ref sample.Written), sample.Window);
        var names = predictors.Load(version).Schema.ClassNames;
        if (filled == 0 || names.Count == 0) return new Dictionary<string, double>();
        var shares = DriftBaseline.Shares(sample.Classes.Take(filled), names.Count);
        return names.Select((n, i) => (n, shares[i])).ToDictionary(x => x.n, x => x.Item2);
    }
}
