using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Notifications;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Registry;

/// <summary>The policy a model's team Admins set (PUT /models/{name}/policy).</summary>
public sealed record PolicyRequest(bool RequireTwoPeople, string? GateMetric, double? GateThreshold, bool RequireBetterThanProduction);

/// <summary>Governance: aliases, policies, promotion requests with gates, rollback and the stage history (docs/registry.md).</summary>
public sealed partial class RegistryService
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static string Printable(string s) => new(s.Where(c => !char.IsControl(c)).Take(80).ToArray());

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex AliasName();

    /// <summary>An alias name: the model-name rules (1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit).</summary>
    public static string CheckAlias(string? alias)
    {
        var trimmed = (alias ?? "").Trim();
        if (!AliasName().IsMatch(trimmed) || trimmed.Contains(".."))
            throw PortalException.Invalid($"Alias '{Printable(trimmed)}' is not allowed: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.", "alias");
        return trimmed;
    }

    /// <summary>Points <paramref name="alias"/> at <paramref name="version"/>, creating or moving it; audited with the old and new version.</summary>
    public async Task<ModelAlias> SetAliasAsync(string modelName, string alias, int version, CancellationToken ct)
    {
        var name = CheckAlias(alias);
        await using var writing = await gate.EnterAsync(db, ct);
        var model = await LoadModelAsync(modelName, ct);
        if (model.Versions.All(v => v.Version != version))
            throw PortalException.NotFound($"Version {version} of model '{modelName}'");
        var aliases = db.Set<ModelAlias>();
        var row = await aliases.FirstOrDefaultAsync(a => a.RegisteredModelId == model.Id && a.Name == name, ct);
        var before = row is null ? null : $"v{row.Version}";
        if (row is null)
            aliases.Add(row = new ModelAlias { RegisteredModelId = model.Id, Name = name, Version = version, SetAt = DateTime.UtcNow, SetBy = user.Name });
        else if (row.Version == version)
            return row;
        else
        {
            row.Version = version;
            row.SetAt = DateTime.UtcNow;
            row.SetBy = user.Name;
        }
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "model.alias.set", Subject = $"model:{model.Name}", TeamId = model.TeamId, Details = $"alias '{name}' -> v{version}", Before = before, After = $"v{version}" });
        await db.SaveChangesAsync(ct);
        return row;
    }

    /// <summary>Removes an alias (404 when the model has none by that name); audited.</summary>
    public async Task RemoveAliasAsync(string modelName, string alias, CancellationToken ct)
    {
        var name = CheckAlias(alias);
        await using var writing = await gate.EnterAsync(db, ct);
        var model = await LoadModelAsync(modelName, ct);
        var row = await db.Set<ModelAlias>().FirstOrDefaultAsync(a => a.RegisteredModelId == model.Id && a.Name == name, ct)
            ?? throw PortalException.NotFound($"Alias '{name}' of model '{modelName}'");
        db.Set<ModelAlias>().Remove(row);
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "model.alias.removed", Subject = $"model:{model.Name}", TeamId = model.TeamId, Details = $"alias '{name}' removed", Before = $"v{row.Version}", After = null });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The model's policy; the default (nothing required) when none was set.</summary>
    public async Task<ModelPolicy> GetPolicyAsync(string modelName, CancellationToken ct)
    {
        var id = await db.RegisteredModels.AsNoTracking().Where(m => m.Name == modelName).Select(m => (int?)m.Id).FirstOrDefaultAsync(ct)
            ?? throw PortalException.NotFound($"Model '{modelName}'");
        return await db.Set<ModelPolicy>().AsNoTracking().FirstOrDefaultAsync(p => p.RegisteredModelId == id, ct) ?? new ModelPolicy { RegisteredModelId = id };
    }

    /// <summary>Sets the model's policy (the API and page let team Admins only); audited with the old and new policy.</summary>
    public async Task<ModelPolicy> SetPolicyAsync(string modelName, PolicyRequest request, CancellationToken ct)
    {
        var metric = string.IsNullOrWhiteSpace(request.GateMetric) ? null : request.GateMetric.Trim().ToLowerInvariant();
        if (metric is not null && Array.IndexOf(GateMetrics.All, metric) < 0)
            throw PortalException.Invalid($"Gate metric '{Printable(metric)}' is not one of {string.Join(", ", GateMetrics.All)}.", "gateMetric");
        if (metric is not null && request.GateThreshold is null)
            throw PortalException.Invalid($"Gate metric '{metric}' needs a threshold.", "gateThreshold");
        if (request.GateThreshold is { } threshold && !double.IsFinite(threshold))
            throw PortalException.Invalid($"The gate threshold must be a finite number.", "gateThreshold");
        await using var writing = await gate.EnterAsync(db, ct);
        var model = await LoadModelAsync(modelName, ct);
        var policies = db.Set<ModelPolicy>();
        var row = await policies.FirstOrDefaultAsync(p => p.RegisteredModelId == model.Id, ct);
        var before = row is null ? null : Describe(row);
        if (row is null) policies.Add(row = new ModelPolicy { RegisteredModelId = model.Id });
        row.RequireTwoPeople = request.RequireTwoPeople;
        row.GateMetric = metric;
        row.GateThreshold = metric is null ? null : request.GateThreshold;
        row.RequireBetterThanProduction = request.RequireBetterThanProduction;
        row.UpdatedAt = DateTime.UtcNow;
        row.UpdatedBy = user.Name;
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "model.policy.changed", Subject = $"model:{model.Name}", TeamId = model.TeamId, Details = Describe(row), Before = before, After = Describe(row) });
        await db.SaveChangesAsync(ct);
        return row;
    }

    private static string Describe(ModelPolicy p) =>
        $"two people: {(p.RequireTwoPeople ? "yes" : "no")}; metric gate: {(p.GateMetric is null ? "none" : $"{p.GateMetric} {(GateMetrics.LowerIsBetter(p.GateMetric) ? "<=" : ">=")} {p.GateThreshold}")}; better than Production: {(p.RequireBetterThanProduction ? "yes" : "no")}";

    /// <summary>The gates of the model's policy evaluated for <paramref name="version"/> now (what a request would record).</summary>
    public async Task<IReadOnlyList<GateResult>> EvaluateGatesAsync(string modelName, int version, CancellationToken ct)
    {
        var model = await db.RegisteredModels.AsNoTracking().Include(m => m.Versions).FirstOrDefaultAsync(m => m.Name == modelName, ct)
            ?? throw PortalException.NotFound($"Model '{modelName}'");
        var chosen = model.Versions.FirstOrDefault(v => v.Version == version) ?? throw PortalException.NotFound($"Version {version} of model '{modelName}'");
        return await GatesAsync(model, chosen, await GetPolicyAsync(modelName, ct), ct);
    }

    /// <summary>A run's test figure for a gate metric; null when the run has none (RMSE is the square root of the stored MSE).</summary>
    public static double? MetricOf(Run run, string metric)
    {
        var e = RunEvaluation.From(run);
        return metric switch
        {
            GateMetrics.Accuracy => run.TestAccuracy ?? e?.Accuracy,
            GateMetrics.F1Macro => run.TestF1Macro ?? e?.F1Macro,
            GateMetrics.Rmse => e?.Mse is { } mse ? Math.Sqrt(mse) : null,
            GateMetrics.R2 => e?.R2,
            _ => null,
        };
    }

    private async Task<List<GateResult>> GatesAsync(RegisteredModel model, ModelVersion candidate, ModelPolicy policy, CancellationToken ct)
    {
        var results = new List<GateResult>();
        if (policy.GateMetric is null && !policy.RequireBetterThanProduction)
            return results;
        var run = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == candidate.RunId, ct);
        if (policy.GateMetric is { } metric && policy.GateThreshold is { } threshold)
        {
            var value = MetricOf(run, metric);
            var lower = GateMetrics.LowerIsBetter(metric);
            var op = lower ? "<=" : ">=";
            results.Add(value is not { } v
                ? new GateResult("metric", false, $"v{candidate.Version} has no test {metric} (run {run.Id} reported none).", metric, null, threshold)
                : new GateResult("metric", lower ? v <= threshold : v >= threshold, $"test {metric} {v:0.####} {op} {threshold:0.####} required", metric, v, threshold));
        }
        if (policy.RequireBetterThanProduction)
        {
            var production = model.Versions.FirstOrDefault(v => v.Stage == ModelStages.Production && v.Id != candidate.Id);
            if (production is null)
                results.Add(new GateResult("better_than_production", true, "There is no other version in Production to beat."));
            else
            {
                var reference = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == production.RunId, ct);
                var metric2 = policy.GateMetric ?? (RunEvaluation.From(run)?.IsRegression == true ? GateMetrics.R2 : GateMetrics.Accuracy);
                var lower = GateMetrics.LowerIsBetter(metric2);
                // "The same test data": the same dataset version split the same way (seed and fractions), so the
                // stored test figures were measured on the same rows (docs/registry.md).
                var same = run.DatasetVersionId is not null && run.DatasetVersionId == reference.DatasetVersionId && run.Seed == reference.Seed
                    && run.TestFraction == reference.TestFraction && run.ValidationFraction == reference.ValidationFraction;
                var mine = MetricOf(run, metric2);
                var theirs = MetricOf(reference, metric2);
                if (!same)
                    results.Add(new GateResult("better_than_production", false,
                        $"v{candidate.Version} and Production v{production.Version} were not tested on the same test data (dataset version, seed or split differ), so they cannot be compared.", metric2, mine, theirs, production.Version));
                else if (mine is not { } a || theirs is not { } b)
                    results.Add(new GateResult("better_than_production", false, $"test {metric2} is missing for v{candidate.Version} or Production v{production.Version}.", metric2, mine, theirs, production.Version));
                else
                    results.Add(new GateResult("better_than_production", lower ? a < b : a > b,
                        $"test {metric2} {a:0.####} against Production v{production.Version}'s {b:0.####} on the same test data ({(lower ? "lower" : "higher")} is better)", metric2, a, b, production.Version));
            }
        }
        return results;
    }

    public static IReadOnlyList<GateResult> GatesOf(PromotionRequest request) =>
        JsonSerializer.Deserialize<List<GateResult>>(request.GatesJson, Json) ?? [];

    /// <summary>
    /// An Editor's request to move <paramref name="version"/> to Production. The gates are evaluated now and
    /// stored with the request; one open request per version (409), none for a version already in Production (409).
    /// </summary>
    public async Task<PromotionRequest> RequestPromotionAsync(string modelName, int version, string? note, CancellationToken ct)
    {
        await using var writing = await gate.EnterAsync(db, ct);
        var model = await LoadModelAsync(modelName, ct);
        var chosen = model.Versions.FirstOrDefault(v => v.Version == version) ?? throw PortalException.NotFound($"Version {version} of model '{modelName}'");
        if (chosen.Stage == ModelStages.Production)
            throw new PortalException(PortalError.Conflict, $"Version {version} of model '{modelName}' is already in Production.");
        var requests = db.Set<PromotionRequest>();
        if (await requests.Where(r => r.RegisteredModelId == model.Id && r.Version == version && r.Status == PromotionStatus.Open).Select(r => (int?)r.Id).FirstOrDefaultAsync(ct) is { } open)
            throw new PortalException(PortalError.Conflict, $"Version {version} of model '{modelName}' already has an open promotion request ({open}); approve or reject it first.");
        var gates = await GatesAsync(model, chosen, await GetPolicyAsync(modelName, ct), ct);
        var request = new PromotionRequest
        {
            RegisteredModelId = model.Id, Version = version, Status = PromotionStatus.Open, Note = Clean(note),
            RequestedAt = DateTime.UtcNow, RequestedBy = user.Name, GatesJson = JsonSerializer.Serialize(gates, Json),
        };
        requests.Add(request);
        await db.SaveChangesAsync(ct);
        db.AuditEvents.Add(new AuditEvent { At = request.RequestedAt, Actor = user.Name, Action = "model.promotion.requested", Subject = $"model:{model.Name}:v{version}", TeamId = model.TeamId, Details = $"request {request.Id}: {request.Note}" });
        PortalEvents.Raise(db, model.TeamId, EventTypes.PromotionRequested, $"model:{model.Name}:v{version}", user.Name,
            new { model = model.Name, version, requestId = request.Id, requester = user.Name, approver = (string?)null, note = request.Note, gates });
        await db.SaveChangesAsync(ct);
        return request;
    }

    /// <summary>
    /// Approves an open request: re-evaluates the gates (409 when one fails), refuses the requester when the
    /// policy requires two people (403), and promotes through the same path as every stage change.
    /// </summary>
    public async Task<PromotionRequest> ApprovePromotionAsync(string modelName, int requestId, string? note, CancellationToken ct)
    {
        await using var writing = await gate.EnterAsync(db, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var (model, request) = await OpenRequestAsync(modelName, requestId, ct);
        var policy = await GetPolicyAsync(modelName, ct);
        if (policy.RequireTwoPeople && string.Equals(request.RequestedBy, user.Name, StringComparison.OrdinalIgnoreCase))
            throw new PortalException(PortalError.Forbidden, $"Model '{modelName}' requires two people: {user.Name} asked for promotion request {requestId} and cannot approve it; another Approver must.");
        var chosen = model.Versions.FirstOrDefault(v => v.Version == request.Version) ?? throw PortalException.NotFound($"Version {request.Version} of model '{modelName}'");
        var gates = await GatesAsync(model, chosen, policy, ct);
        request.GatesJson = JsonSerializer.Serialize(gates, Json);
        if (gates.FirstOrDefault(g => !g.Passed) is { } failing)
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            throw new PortalException(PortalError.Conflict, $"Promotion request {requestId} cannot be approved: the gate '{failing.Gate}' fails ({failing.Detail}).");
        }
        var now = DateTime.UtcNow;
        request.Status = PromotionStatus.Approved;
        request.DecidedAt = now;
        request.DecidedBy = user.Name;
        request.DecisionNote = Clean(note);
        if (chosen.Stage != ModelStages.Production)
            await MoveAsync(model, chosen, ModelStages.Production, user.Name, $"request {requestId} approved" + (request.DecisionNote is null ? "" : $": {request.DecisionNote}"), requestId, now, ct);
        db.AuditEvents.Add(new AuditEvent { At = now, Actor = user.Name, Action = "model.promotion.approved", Subject = $"model:{model.Name}:v{request.Version}", TeamId = model.TeamId, Details = $"request {requestId} of {request.RequestedBy}: {request.DecisionNote}" });
        PortalEvents.Raise(db, model.TeamId, EventTypes.PromotionApproved, $"model:{model.Name}:v{request.Version}", user.Name,
            new { model = model.Name, version = request.Version, requestId, requester = request.RequestedBy, approver = user.Name, note = request.DecisionNote, gates });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        log.LogInformation("{Model} v{Version} promoted by request {Request}, approved by {Actor}", model.Name, request.Version, requestId, user.Name);
        return request;
    }

    /// <summary>Rejects an open request with a note (the requester may withdraw their own).</summary>
    public async Task<PromotionRequest> RejectPromotionAsync(string modelName, int requestId, string? note, CancellationToken ct)
    {
        await using var writing = await gate.EnterAsync(db, ct);
        var (model, request) = await OpenRequestAsync(modelName, requestId, ct);
        request.Status = PromotionStatus.Rejected;
        request.DecidedAt = DateTime.UtcNow;
        request.DecidedBy = user.Name;
        request.DecisionNote = Clean(note);
        db.AuditEvents.Add(new AuditEvent { At = request.DecidedAt.Value, Actor = user.Name, Action = "model.promotion.rejected", Subject = $"model:{model.Name}:v{request.Version}", TeamId = model.TeamId, Details = $"request {requestId} of {request.RequestedBy}: {request.DecisionNote}" });
        PortalEvents.Raise(db, model.TeamId, EventTypes.PromotionRejected, $"model:{model.Name}:v{request.Version}", user.Name,
            new { model = model.Name, version = request.Version, requestId, requester = request.RequestedBy, approver = user.Name, note = request.DecisionNote, gates = GatesOf(request) });
        await db.SaveChangesAsync(ct);
        return request;
    }

    private async Task<(RegisteredModel, PromotionRequest)> OpenRequestAsync(string modelName, int requestId, CancellationToken ct)
    {
        var model = await LoadModelAsync(modelName, ct);
        var request = await db.Set<PromotionRequest>().FirstOrDefaultAsync(r => r.Id == requestId && r.RegisteredModelId == model.Id, ct)
            ?? throw PortalException.NotFound($"Promotion request {requestId} of model '{modelName}'");
        if (request.Status != PromotionStatus.Open)
            throw new PortalException(PortalError.Conflict, $"Promotion request {requestId} is already {request.Status}.");
        return (model, request);
    }

    private static string? Clean(string? note)
    {
        var t = note?.Trim();
        if (t is { Length: > 2000 })
            throw PortalException.Invalid($"A note is at most 2000 characters.", "note");
        return string.IsNullOrEmpty(t) ? null : t;
    }

    /// <summary>The model's promotion requests, newest first.</summary>
    public async Task<IReadOnlyList<PromotionRequest>> RequestsAsync(string modelName, CancellationToken ct)
    {
        var model = await db.RegisteredModels.AsNoTracking().FirstOrDefaultAsync(m => m.Name == modelName, ct) ?? throw PortalException.NotFound($"Model '{modelName}'");
        return await db.Set<PromotionRequest>().AsNoTracking().Where(r => r.RegisteredModelId == model.Id).OrderByDescending(r => r.Id).ToListAsync(ct);
    }

    /// <summary>
    /// Puts back the version that was in Production just before the current one (from the stage history),
    /// archiving the current; 409 when there is none to go back to. Audited; raises model.rolled_back.
    /// </summary>
    public async Task<ModelVersion> RollbackAsync(string modelName, string? why, CancellationToken ct)
    {
        var reason = Clean(why);
        await using var writing = await gate.EnterAsync(db, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var model = await LoadModelAsync(modelName, ct);
        var current = model.Versions.FirstOrDefault(v => v.Stage == ModelStages.Production);
        var previous = await PreviousProductionAsync(model, current, ct)
            ?? throw new PortalException(PortalError.Conflict, $"Model '{modelName}' has no earlier Production version to roll back to.");
        var now = DateTime.UtcNow;
        var text = $"rollback from v{current?.Version}" + (reason is null ? "" : $": {reason}");
        await MoveAsync(model, previous, ModelStages.Production, user.Name, text, null, now, ct);
        db.AuditEvents.Add(new AuditEvent { At = now, Actor = user.Name, Action = "model.rolled_back", Subject = $"model:{model.Name}", TeamId = model.TeamId, Details = text, Before = current is null ? null : $"v{current.Version}", After = $"v{previous.Version}" });
        PortalEvents.Raise(db, model.TeamId, EventTypes.ModelRolledBack, $"model:{model.Name}:v{previous.Version}", user.Name,
            new { model = model.Name, version = previous.Version, from = current?.Version, actor = user.Name, note = reason });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        log.LogInformation("{Model} rolled back from v{From} to v{To} by {Actor}", model.Name, current?.Version, previous.Version, user.Name);
        return previous;
    }

    /// <summary>The version that held Production last before <paramref name="current"/> took it, or null.</summary>
    private async Task<ModelVersion?> PreviousProductionAsync(RegisteredModel model, ModelVersion? current, CancellationToken ct)
    {
        var query = db.Set<StageInterval>().AsNoTracking().Where(h => h.RegisteredModelId == model.Id && h.Stage == ModelStages.Production && h.To != null);
        if (current is not null) query = query.Where(h => h.Version != current.Version);
        var intervals = await query.OrderByDescending(h => h.To).ThenByDescending(h => h.Id).Select(h => h.Version).ToListAsync(ct);
        return intervals.Select(v => model.Versions.FirstOrDefault(m => m.Version == v)).FirstOrDefault(v => v is not null);
    }

    /// <summary>The version a rollback would restore, for a page to name before it asks to confirm.</summary>
    public async Task<int?> RollbackTargetAsync(string modelName, CancellationToken ct)
    {
        var model = await db.RegisteredModels.AsNoTracking().Include(m => m.Versions).FirstOrDefaultAsync(m => m.Name == modelName, ct) ?? throw PortalException.NotFound($"Model '{modelName}'");
        return (await PreviousProductionAsync(model, model.Versions.FirstOrDefault(v => v.Stage == ModelStages.Production), ct))?.Version;
    }

    /// <summary>Every stage interval of the model, oldest first.</summary>
    public async Task<IReadOnlyList<StageInterval>> HistoryAsync(string modelName, CancellationToken ct)
    {
        var model = await db.RegisteredModels.AsNoTracking().FirstOrDefaultAsync(m => m.Name == modelName, ct) ?? throw PortalException.NotFound($"Model '{modelName}'");
        return await db.Set<StageInterval>().AsNoTracking().Where(h => h.RegisteredModelId == model.Id).OrderBy(h => h.From).ThenBy(h => h.Id).ToListAsync(ct);
    }

    /// <summary>The interval that held <paramref name="stage"/> at <paramref name="at"/> (From &lt;= at &lt; To), or null.</summary>
    public async Task<StageInterval?> AtAsync(string modelName, string stage, DateTime at, CancellationToken ct)
    {
        var target = ParseStage(stage);
        var utc = at.Kind == DateTimeKind.Utc ? at : at.ToUniversalTime();
        return (await HistoryAsync(modelName, ct)).Where(h => h.Stage == target && h.From <= utc && (h.To is null || h.To > utc)).MaxBy(h => h.From);
    }

    /// <summary>Sets a version's free plain-text description (at most 4000 characters); audited.</summary>
    public async Task SetDescriptionAsync(string modelName, int version, string? description, CancellationToken ct)
    {
        var text = description?.Trim();
        if (text is { Length: > 4000 })
            throw PortalException.Invalid($"A description is at most 4000 characters.", "description");
        await using var writing = await gate.EnterAsync(db, ct);
        var model = await LoadModelAsync(modelName, ct);
        var chosen = model.Versions.FirstOrDefault(v => v.Version == version) ?? throw PortalException.NotFound($"Version {version} of model '{modelName}'");
        var before = chosen.Description;
        chosen.Description = string.IsNullOrEmpty(text) ? null : text;
        if (before == chosen.Description) return;
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "model.version.described", Subject = $"model:{model.Name}:v{version}", TeamId = model.TeamId, Details = "description changed", Before = before, After = chosen.Description });
        await db.SaveChangesAsync(ct);
    }
}
