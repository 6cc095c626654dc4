using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Registry;

public sealed record AliasRequest(int Version);
public sealed record NoteRequest(string? Note);
public sealed record ReasonRequest(string? Reason);
public sealed record DescriptionRequest(string? Description);

public sealed record AliasView(string Alias, int Version, DateTime SetAt, string SetBy);
public sealed record PolicyView(bool RequireTwoPeople, string? GateMetric, double? GateThreshold, bool RequireBetterThanProduction, DateTime? UpdatedAt, string? UpdatedBy);
public sealed record PromotionRequestView(int Id, string Model, int Version, string Status, string? Note, DateTime RequestedAt, string RequestedBy,
    DateTime? DecidedAt, string? DecidedBy, string? DecisionNote, IReadOnlyList<GateResult> Gates);
public sealed record StageIntervalView(int Version, string Stage, DateTime From, DateTime? To, string By, string? Why, int? RequestId);
/// <summary>GET history?stage=&amp;at=: which version held the stage at that instant.</summary>
public sealed record StageAtView(string Stage, DateTime At, StageIntervalView Interval);
public sealed record FeatureView(string Name, string Kind, IReadOnlyList<string>? Categories);
public sealed record ModelCardView(string Model, int Version, string Stage, string? Description, IReadOnlyList<string> Aliases,
    int RunId, string RunName, string? Dataset, int? DatasetVersion, ModelVersionRef? ParentModel,
    RunEvaluation? Evaluation, ComputeView? Compute, string? InputKind, IReadOnlyList<FeatureView> Features, IReadOnlyList<string> ClassNames,
    DateTime CreatedAt, string CreatedBy);

/// <summary>The governance routes under /api/v1/models (docs/registry.md).</summary>
public static class GovernanceApi
{
    public static void Map(RouteGroupBuilder models)
    {
        var editor = new Identity.NeedsRole(Identity.TeamRole.Editor);
        var approver = new Identity.NeedsRole(Identity.TeamRole.Approver);
        models.MapGet("/{name}/aliases", Aliases);
        models.MapPut("/{name}/aliases/{alias}", SetAlias);
        models.MapDelete("/{name}/aliases/{alias}", RemoveAlias).WithMetadata(editor);
        models.MapGet("/{name}/policy", Policy);
        models.MapPut("/{name}/policy", SetPolicy).WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Admin));
        models.MapGet("/{name}/promotion-requests", Requests);
        models.MapPost("/{name}/versions/{version:int}/promotion-requests", RequestPromotion);
        models.MapPost("/{name}/promotion-requests/{id:int}/approve", Approve).WithMetadata(approver);
        models.MapPost("/{name}/promotion-requests/{id:int}/reject", Reject).WithMetadata(approver);
        models.MapPost("/{name}/rollback", Rollback).WithMetadata(approver);
        models.MapGet("/{name}/history", History);
        models.MapGet("/{name}/versions/{version:int}/card", Card);
        models.MapPut("/{name}/versions/{version:int}/description", SetDescription);
    }

    public static async Task<IReadOnlyList<AliasView>> Aliases(string name, PortalDb db, CancellationToken ct)
    {
        var id = await ModelIdAsync(db, name, ct);
        return await db.Set<ModelAlias>().AsNoTracking().Where(a => a.RegisteredModelId == id).OrderBy(a => a.Name)
            .Select(a => new AliasView(a.Name, a.Version, a.SetAt, a.SetBy)).ToListAsync(ct);
    }

    public static async Task<AliasView> SetAlias(string name, string alias, AliasRequest request, RegistryService registry, CancellationToken ct)
    {
        var row = await registry.SetAliasAsync(name, alias, request.Version, ct);
        return new AliasView(row.Name, row.Version, row.SetAt, row.SetBy);
    }

    public static async Task<IResult> RemoveAlias(string name, string alias, RegistryService registry, CancellationToken ct)
    {
        await registry.RemoveAliasAsync(name, alias, ct);
        return TypedResults.NoContent();
    }

    public static async Task<PolicyView> Policy(string name, RegistryService registry, CancellationToken ct) => ToView(await registry.GetPolicyAsync(name, ct));

    public static async Task<PolicyView> SetPolicy(string name, PolicyRequest request, RegistryService registry, CancellationToken ct) =>
        ToView(await registry.SetPolicyAsync(name, request, ct));

    public static async Task<IReadOnlyList<PromotionRequestView>> Requests(string name, RegistryService registry, CancellationToken ct) =>
        (await registry.RequestsAsync(name, ct)).Select(r => ToView(name, r)).ToList();

    public static async Task<IResult> RequestPromotion(string name, int version, NoteRequest request, RegistryService registry, CancellationToken ct)
    {
        var row = await registry.RequestPromotionAsync(name, version, request.Note, ct);
        return TypedResults.Created($"/api/v1/models/{name}/promotion-requests", ToView(name, row));
    }

    public static async Task<PromotionRequestView> Approve(string name, int id, NoteRequest request, RegistryService registry, CancellationToken ct) =>
        ToView(name, await registry.ApprovePromotionAsync(name, id, request.Note, ct));

    public static async Task<PromotionRequestView> Reject(string name, int id, NoteRequest request, RegistryService registry, CancellationToken ct) =>
        ToView(name, await registry.RejectPromotionAsync(name, id, request.Note, ct));

    public static async Task<ModelVersionView> Rollback(string name, ReasonRequest request, RegistryService registry, PortalDb db, DataPaths paths, CancellationToken ct)
    {
        var restored = await registry.RollbackAsync(name, request.Reason, ct);
        return (await ModelsApi.Get(name, db, paths, ct)).Versions.First(v => v.Version == restored.Version);
    }

    /// <summary>GET history: every interval; with ?at= (and ?stage=, Production by default) the one holding that stage then, 404 when none did.</summary>
    public static async Task<IResult> History(string name, string? stage, DateTime? at, RegistryService registry, CancellationToken ct)
    {
        if (at is null)
        {
            var all = await registry.HistoryAsync(name, ct);
            var wanted = stage is null ? all : all.Where(h => string.Equals(h.Stage, stage.Trim(), StringComparison.OrdinalIgnoreCase)).ToList();
            return TypedResults.Ok(wanted.Select(ToView).ToList());
        }
        var s = stage ?? ModelStages.Production;
        var when = at.Value.ToUniversalTime().ToString("O");
        var found = await registry.AtAsync(name, s, at.Value, ct)
            ?? throw PortalException.NotFound($"A version of model '{name}' in stage {s} at {when}");
        return TypedResults.Ok(new StageAtView(found.Stage, at.Value.ToUniversalTime(), ToView(found)));
    }

    public static async Task<ModelCardView> Card(string name, int version, PortalDb db, DataPaths paths, Microsoft.Extensions.Options.IOptions<CostOptions> prices, CancellationToken ct)
    {
        var v = await db.ModelVersions.AsNoTracking().Include(x => x.RegisteredModel)
            .Include(x => x.Run!).ThenInclude(r => r.DatasetVersion!).ThenInclude(d => d.Dataset)
            .Include(x => x.Run!).ThenInclude(r => r.ParentModelVersion!).ThenInclude(p => p.RegisteredModel)
            .FirstOrDefaultAsync(x => x.RegisteredModel!.Name == name && x.Version == version, ct)
            ?? throw PortalException.NotFound($"Version {version} of model '{name}'");
        var aliases = await db.Set<ModelAlias>().AsNoTracking().Where(a => a.RegisteredModelId == v.RegisteredModelId && a.Version == version).Select(a => a.Name).OrderBy(a => a).ToListAsync(ct);
        ModelOps.Engine.Models.ModelSchema? schema = null;
        try
        {
            var path = paths.Resolve(v.ArtifactPath);
            if (File.Exists(path)) schema = ModelOps.Engine.Models.ModelPackage.Read(path).Schema;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
        {
            schema = null;
        }
        var run = v.Run!;
        return new ModelCardView(name, version, v.Stage, v.Description, aliases, run.Id, run.Name,
            run.DatasetVersion?.Dataset?.Name, run.DatasetVersion?.Version,
            run.ParentModelVersion is { } p ? new ModelVersionRef(p.RegisteredModel!.Name, p.Version) : null,
            RunEvaluation.From(run), RunCompute.View(run.GpuSeconds, run.CpuCoreSeconds, prices.Value),
            schema?.InputKind, schema?.Features.Select(f => new FeatureView(f.Name, f.Kind.ToString(), f.Categories)).ToList() ?? [],
            schema?.ClassNames ?? [], v.CreatedAt, v.CreatedBy);
    }

    public static async Task<IResult> SetDescription(string name, int version, DescriptionRequest request, RegistryService registry, CancellationToken ct)
    {
        await registry.SetDescriptionAsync(name, version, request.Description, ct);
        return TypedResults.NoContent();
    }

    private static async Task<int> ModelIdAsync(PortalDb db, string name, CancellationToken ct) =>
        await db.RegisteredModels.AsNoTracking().Where(m => m.Name == name).Select(m => (int?)m.Id).FirstOrDefaultAsync(ct)
        ?? throw PortalException.NotFound($"Model '{name}'");

    public static PolicyView ToView(ModelPolicy p) => new(p.RequireTwoPeople, p.GateMetric, p.GateThreshold, p.RequireBetterThanProduction, p.UpdatedAt, p.UpdatedBy);

    public static PromotionRequestView ToView(string model, PromotionRequest r) =>
        new(r.Id, model, r.Version, r.Status, r.Note, r.RequestedAt, r.RequestedBy, r.DecidedAt, r.DecidedBy, r.DecisionNote, RegistryService.GatesOf(r));

    public static StageIntervalView ToView(StageInterval h) => new(h.Version, h.Stage, h.From, h.To, h.By, h.Why, h.RequestId);
}
