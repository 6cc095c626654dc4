using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Review;

/// <summary>One test metric of a version; <see cref="LowerIsBetter"/> for errors (RMSE, MAE).</summary>
public sealed record ReviewMetric(string Key, double? Value, double? DeltaToProduction, bool LowerIsBetter)
{
    /// <summary>Whether the difference to Production is an improvement; null without one (or for Production itself).</summary>
    public bool? Better => DeltaToProduction is { } d && d != 0 ? (LowerIsBetter ? d < 0 : d > 0) : null;
}

public sealed record ClassScore(string ClassName, double? Precision, double? Recall);

public sealed record ReviewVersion(
    int Version, string Stage, int RunId, string TrainedBy, DateTime RegisteredAt, DateTime TrainedAt,
    string? Dataset, int? DatasetVersion, ComputeView? Compute, IReadOnlyList<ReviewMetric> Metrics,
    IReadOnlyList<ClassScore> Classes, RunEvaluation? Evaluation, IReadOnlyDictionary<string, IReadOnlyList<SeriesPoint>> Curves)
{
    public TimeSpan Age(DateTime now) => now - RegisteredAt;
}

public sealed record ReviewVersionStage(int Version, string Stage);

public sealed record ReviewDecisionView(int Id, DateTime At, string Actor, string Decision, string Note, IReadOnlyList<ReviewVersionStage> Versions);

/// <summary>
/// What the lead's serving monitor reports for one deployed version (requests, errors, latency over the window):
/// the "live serving figures" slot of the review page and PDF. Empty until a <see cref="IReviewServingFigures"/> is registered.
/// </summary>
public sealed record ServingFigures(int Version, long Requests, long Errors, double? P50Ms, double? P95Ms, double? P99Ms);

/// <summary>The hook Serving implements to put live figures into a review (docs/review.md); none is registered yet.</summary>
public interface IReviewServingFigures
{
    Task<IReadOnlyList<ServingFigures>> ForVersionsAsync(int registeredModelId, IReadOnlyList<int> versions, CancellationToken ct);
}

public sealed record ReviewReport(
    string Model, int TeamId, DateTime At, int? ProductionVersion, IReadOnlyList<ReviewVersion> Versions,
    IReadOnlyList<int> Available, IReadOnlyList<ReviewDecisionView> Decisions, IReadOnlyList<ServingFigures> Serving);

public sealed record ReviewRequest(string? Decision, string? Note, int[]? Versions);

/// <summary>The champion-vs-challenger review of a registered model, and Approvers' decisions on it.</summary>
public sealed class ReviewService(PortalDb db, WriteGate gate, CurrentUser user, Identity.Access access, IOptions<CostOptions> cost, IEnumerable<IReviewServingFigures> serving)
{
    public const int MaxChallengers = 4;
    /// <summary>The per-epoch curves a review overlays, when the runs logged them.</summary>
    public static readonly string[] CurveKeys = ["train_loss", "val_loss", "val_accuracy"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The review of <paramref name="name"/>: its Production version against <paramref name="requested"/> (or, when none is
    /// asked for, up to four newest other non-archived versions). A Viewer of the model's team may read it.
    /// </summary>
    public async Task<ReviewReport> LoadAsync(string name, IReadOnlyCollection<int>? requested, CancellationToken ct)
    {
        var model = await db.RegisteredModels.AsNoTracking().FirstOrDefaultAsync(m => m.Name == name, ct) ?? throw PortalException.NotFound($"Model '{name}'");
        await access.RequireAsync(model.TeamId, Identity.TeamRole.Viewer, $"Model '{name}'", ct);
        var all = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModelId == model.Id).OrderByDescending(v => v.Version)
            .Include(v => v.Run!).ThenInclude(r => r.DatasetVersion!).ThenInclude(d => d.Dataset).AsSplitQuery().ToListAsync(ct);
        var production = all.FirstOrDefault(v => v.Stage == ModelStages.Production);
        List<ModelVersion> challengers;
        if (requested is { Count: > 0 })
        {
            var distinct = requested.Distinct().Where(v => v != production?.Version).ToList();
            if (distinct.Count > MaxChallengers)
                throw PortalException.Invalid($"A review compares at most {MaxChallengers} challengers with Production; {distinct.Count} were asked for.", "v");
            challengers = distinct.Select(v => all.FirstOrDefault(x => x.Version == v) ?? throw PortalException.NotFound($"Version {v} of model '{name}'")).ToList();
        }
        else
            challengers = all.Where(v => v != production && v.Stage != ModelStages.Archived).Take(MaxChallengers).ToList();
        var shown = (production is null ? challengers : challengers.Prepend(production)).ToList();

        var runIds = shown.Select(v => v.RunId).ToList();
        var curves = new Dictionary<int, Dictionary<string, IReadOnlyList<SeriesPoint>>>();
        foreach (var key in CurveKeys)
            foreach (var (runId, points) in await TrackingStore.SeriesOfRunsAsync(db, runIds, key, ct))
            {
                if (!curves.TryGetValue(runId, out var byKey)) curves[runId] = byKey = [];
                byKey[key] = points;
            }
        var productionMetrics = production is null ? null : MetricsOf(RunEvaluation.From(production.Run!), production.Run!);
        var versions = shown.Select(v =>
        {
            var evaluation = RunEvaluation.From(v.Run!);
            var own = MetricsOf(evaluation, v.Run!);
            var metrics = own.Select(m =>
            {
                var reference = productionMetrics?.FirstOrDefault(p => p.Key == m.Key)?.Value;
                double? delta = v == production || m.Value is null || reference is null ? null : m.Value - reference;
                return m with { DeltaToProduction = delta };
            }).ToList();
            var run = v.Run!;
            return new ReviewVersion(v.Version, v.Stage, v.RunId, run.CreatedBy, v.CreatedAt, run.EndedAt ?? run.CreatedAt,
                run.DatasetVersion?.Dataset?.Name, run.DatasetVersion?.Version, RunCompute.View(run.GpuSeconds, run.CpuCoreSeconds, cost.Value),
                metrics, ClassScores(evaluation), evaluation,
                curves.TryGetValue(v.RunId, out var c) ? c : new Dictionary<string, IReadOnlyList<SeriesPoint>>());
        }).ToList();

        var figures = new List<ServingFigures>();
        foreach (var source in serving)
            figures.AddRange(await source.ForVersionsAsync(model.Id, shown.Select(v => v.Version).ToList(), ct));
        return new ReviewReport(model.Name, model.TeamId, DateTime.UtcNow, production?.Version, versions,
            all.Select(v => v.Version).ToList(), await DecisionsAsync(model.Id, ct), figures);
    }

    public async Task<IReadOnlyList<ReviewDecisionView>> ListAsync(string name, CancellationToken ct)
    {
        var model = await db.RegisteredModels.AsNoTracking().FirstOrDefaultAsync(m => m.Name == name, ct) ?? throw PortalException.NotFound($"Model '{name}'");
        await access.RequireAsync(model.TeamId, Identity.TeamRole.Viewer, $"Model '{name}'", ct);
        return await DecisionsAsync(model.Id, ct, limit: 200);
    }

    private async Task<IReadOnlyList<ReviewDecisionView>> DecisionsAsync(int modelId, CancellationToken ct, int limit = 10)
    {
        var rows = await db.Set<ModelReview>().AsNoTracking().Where(r => r.RegisteredModelId == modelId).OrderByDescending(r => r.Id).Take(limit).ToListAsync(ct);
        return rows.Select(r => new ReviewDecisionView(r.Id, DateTime.SpecifyKind(r.At, DateTimeKind.Utc), r.Actor, r.Decision, r.Note,
            JsonSerializer.Deserialize<List<ReviewVersionStage>>(r.VersionsJson, Json) ?? [])).ToList();
    }

    /// <summary>An Approver of the model's team signs off or requests changes; stored and audited in one SaveChanges.</summary>
    public async Task<ReviewDecisionView> DecideAsync(string name, ReviewRequest request, CancellationToken ct)
    {
        var decision = request.Decision?.Trim().ToLowerInvariant();
        if (decision is null || Array.IndexOf(ReviewDecisions.All, decision) < 0)
            throw PortalException.Invalid($"The decision must be 'signed-off' or 'changes-requested', not '{request.Decision}'.", "decision");
        var note = request.Note?.Trim() ?? "";
        if (note.Length > 4000) throw PortalException.Invalid($"The note has {note.Length} characters; at most 4000 are kept.", "note");
        if (request.Versions is not { Length: > 0 } asked)
            throw PortalException.Invalid($"Name the versions the review compared (versions: [..]).", "versions");

        var model = await db.RegisteredModels.AsNoTracking().FirstOrDefaultAsync(m => m.Name == name, ct) ?? throw PortalException.NotFound($"Model '{name}'");
        await access.RequireAsync(model.TeamId, Identity.TeamRole.Approver, $"Model '{name}'", ct);
        if (decision == ReviewDecisions.ChangesRequested && note.Length == 0)
            throw PortalException.Invalid($"Say which changes are needed in the note.", "note");

        await using var writing = await gate.EnterAsync(db, ct);
        var stages = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModelId == model.Id && asked.Contains(v.Version))
            .Select(v => new ReviewVersionStage(v.Version, v.Stage)).ToListAsync(ct);
        if (asked.Cast<int?>().FirstOrDefault(v => stages.All(s => s.Version != v)) is { } missing)
            throw PortalException.NotFound($"Version {missing} of model '{name}'");
        stages = stages.OrderBy(s => s.Version).ToList();
        var review = new ModelReview
        {
            RegisteredModelId = model.Id, TeamId = model.TeamId, At = DateTime.UtcNow, Actor = user.Name, Decision = decision, Note = note,
            VersionsJson = JsonSerializer.Serialize(stages, Json),
        };
        db.Set<ModelReview>().Add(review);
        db.AuditEvents.Add(new AuditEvent
        {
            At = review.At, Actor = review.Actor, Action = ReviewDecisions.AuditAction(decision), Subject = $"model:{model.Name}", TeamId = model.TeamId,
            Details = (string.Join(", ", stages.Select(s => $"v{s.Version} ({s.Stage})")) + (note.Length > 0 ? ": " + note : "")),
        });
        await db.SaveChangesAsync(ct);
        return new ReviewDecisionView(review.Id, review.At, review.Actor, review.Decision, review.Note, stages);
    }

    /// <summary>The test metrics of a run: accuracy, F1, precision and recall (macro), or RMSE, MAE and R² for regression.</summary>
    public static List<ReviewMetric> MetricsOf(RunEvaluation? e, Run run)
    {
        if (e is { IsRegression: true })
            return [new("rmse", e.Mse is { } mse ? Math.Sqrt(mse) : null, null, true), new("mae", e.Mae, null, true), new("r2", e.R2, null, false)];
        return [new("accuracy", e?.Accuracy ?? run.TestAccuracy, null, false), new("f1_macro", e?.F1Macro ?? run.TestF1Macro, null, false),
            new("precision_macro", e?.PrecisionMacro, null, false), new("recall_macro", e?.RecallMacro, null, false)];
    }

    /// <summary>Per-class precision and recall from the confusion matrix (rows true, columns predicted).</summary>
    public static List<ClassScore> ClassScores(RunEvaluation? e)
    {
        if (e is null || e.IsRegression || e.ConfusionMatrix is not { Length: > 0 } m) return [];
        var scores = new List<ClassScore>();
        for (var c = 0; c < m.Length; c++)
        {
            double truePositive = m[c].Length > c ? m[c][c] : 0;
            double actual = m[c].Sum();
            double predicted = m.Sum(row => row.Length > c ? row[c] : 0);
            scores.Add(new(c < e.ClassNames.Length ? e.ClassNames[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture),
                predicted > 0 ? truePositive / predicted : null, actual > 0 ? truePositive / actual : null));
        }
        return scores;
    }
}
