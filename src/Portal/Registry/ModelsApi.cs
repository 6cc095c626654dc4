using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Registry;

/// <param name="ParentModel">The version this one's run fine-tuned, when it was fine-tuned.</param>
/// <param name="HasPyTorchStateDict">Whether GET .../versions/{v}/pytorch serves a model.pt.</param>
public sealed record ModelVersionView(
    int Version, string Stage, int RunId, double? TestAccuracy, DateTime CreatedAt, string CreatedBy,
    DateTime? StageChangedAt, string? StageChangedBy, ModelVersionRef? ParentModel = null, bool HasPyTorchStateDict = false);

public sealed record ModelView(string Name, DateTime CreatedAt, string CreatedBy, IReadOnlyList<ModelVersionView> Versions);

/// <summary>POST /models/{name}/versions: <c>allowDuplicate</c> registers a run that is already a version of this model once more.</summary>
public sealed record RegisterRequest(int RunId, bool AllowDuplicate = false);

public sealed record StageRequest(string Stage);

public static class ModelsApi
{
    public static RouteGroupBuilder MapModelsApi(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/models").WithTags("Models");
        models.MapGet("/", List);
        models.MapGet("/{name}", Get);
        models.MapPost("/{name}/versions", Register).WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Editor, OrNew: true));
        models.MapPost("/{name}/versions/{version:int}/stage", SetStage);
        // A package holds what the model learnt of its data (a categorical column's values among them), so it is an Editor's download.
        models.MapGet("/{name}/versions/{version:int}/package", Package).WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Editor));
        models.MapGet("/{name}/versions/{version:int}/pytorch", PyTorchStateDict).WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Editor));
        GovernanceApi.Map(models);
        return api;
    }

    public static async Task<IReadOnlyList<ModelView>> List(PortalDb db, DataPaths paths, Identity.Access access, CancellationToken ct)
    {
        var teams = await access.ListTeamsAsync(ct);
        var models = await WithLineage(db).Where(m => teams.Contains(m.TeamId)).OrderBy(m => m.Name).ToListAsync(ct);
        return models.Select(m => ToView(m, paths)).ToList();
    }

    public static async Task<ModelView> Get(string name, PortalDb db, DataPaths paths, CancellationToken ct) =>
        ToView(await WithLineage(db).FirstOrDefaultAsync(m => m.Name == name, ct) ?? throw PortalException.NotFound($"Model '{name}'"), paths);

    private static IQueryable<RegisteredModel> WithLineage(PortalDb db) =>
        db.RegisteredModels.AsNoTracking().AsSplitQuery()
            .Include(m => m.Versions).ThenInclude(v => v.Run!).ThenInclude(r => r.ParentModelVersion!).ThenInclude(p => p.RegisteredModel);

    /// <summary>GET models/{name}/versions/{v}/package: the version's immutable model package (.mopkg).</summary>
    public static async Task<IResult> Package(string name, int version, PortalDb db, DataPaths paths, CancellationToken ct)
    {
        var path = paths.Resolve((await FindAsync(db, name, version, ct)).ArtifactPath);
        if (!File.Exists(path)) throw PortalException.NotFound($"The package of model '{name}' v{version}");
        return TypedResults.PhysicalFile(path, "application/octet-stream", $"{name}-v{version}{ModelOps.Engine.Models.ModelPackage.FileExtension}");
    }

    /// <summary>GET models/{name}/versions/{v}/pytorch: the version's PyTorch state dict (model.pt), for torch.load.</summary>
    public static async Task<IResult> PyTorchStateDict(string name, int version, PortalDb db, DataPaths paths, CancellationToken ct)
    {
        var path = RegistryService.PyTorchPath(paths.Resolve((await FindAsync(db, name, version, ct)).ArtifactPath));
        if (!File.Exists(path)) throw PortalException.NotFound($"A PyTorch state dict of model '{name}' v{version} (its run exported none)");
        return TypedResults.PhysicalFile(path, "application/octet-stream", $"{name}-v{version}.pt");
    }

    private static async Task<ModelVersion> FindAsync(PortalDb db, string name, int version, CancellationToken ct) =>
        await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.RegisteredModel!.Name == name && v.Version == version, ct)
        ?? throw PortalException.NotFound($"Version {version} of model '{name}'");

    public static async Task<IResult> Register(string name, RegisterRequest request, RegistryService registry, PortalDb db, DataPaths paths, Identity.Access access, CancellationToken ct)
    {
        // The model belongs to the team of the run it is registered from.
        var team = await db.Runs.Where(r => r.Id == request.RunId && r.DeletedAt == null).Select(r => (int?)r.Experiment!.TeamId).FirstOrDefaultAsync(ct)
            ?? throw PortalException.NotFound($"Run {request.RunId}");
        await access.RequireAsync(team, Identity.TeamRole.Editor, $"Run {request.RunId}", ct);
        var version = await registry.RegisterAsync(request.RunId, name, request.AllowDuplicate, ct);
        return TypedResults.Created($"/api/v1/models/{version.RegisteredModel!.Name}", await Get(version.RegisteredModel.Name, db, paths, ct));
    }

    public static async Task<ModelView> SetStage(string name, int version, StageRequest request, RegistryService registry, PortalDb db, DataPaths paths, Identity.Access access, CancellationToken ct)
    {
        await RequireStageRoleAsync(db, access, name, version, request.Stage, ct);
        await RequireDirectMoveAllowedAsync(registry, name, request.Stage, ct);
        await registry.PromoteAsync(name, version, request.Stage, ct);
        return await Get(name, db, paths, ct);
    }

    /// <summary>A model whose policy requires two people takes versions into Production only through an approved request (docs/registry.md).</summary>
    public static async Task RequireDirectMoveAllowedAsync(RegistryService registry, string name, string? stage, CancellationToken ct)
    {
        if (string.Equals(stage?.Trim(), ModelStages.Production, StringComparison.OrdinalIgnoreCase) && (await registry.GetPolicyAsync(name, ct)).RequireTwoPeople)
            throw new PortalException(PortalError.Conflict, $"Model '{name}' requires two people: ask for Production with a promotion request, which another Approver approves.");
    }

    /// <summary>Moving a version into or out of Production is an Approver's decision; other stage moves are an Editor's.</summary>
    public static async Task RequireStageRoleAsync(PortalDb db, Identity.Access access, string name, int version, string? stage, CancellationToken ct)
    {
        var found = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModel!.Name == name && v.Version == version)
            .Select(v => new { v.Stage, v.RegisteredModel!.TeamId }).FirstOrDefaultAsync(ct) ?? throw PortalException.NotFound($"Version {version} of model '{name}'");
        var production = string.Equals(stage?.Trim(), ModelStages.Production, StringComparison.OrdinalIgnoreCase) || found.Stage == ModelStages.Production;
        await access.RequireAsync(found.TeamId, production ? Identity.TeamRole.Approver : Identity.TeamRole.Editor, $"Model '{name}'", ct);
    }

    private static ModelView ToView(RegisteredModel m, DataPaths paths) => new(m.Name, m.CreatedAt, m.CreatedBy,
        m.Versions.OrderByDescending(v => v.Version)
            .Select(v => new ModelVersionView(v.Version, v.Stage, v.RunId, v.Run?.TestAccuracy, v.CreatedAt, v.CreatedBy, v.StageChangedAt, v.StageChangedBy,
                v.Run?.ParentModelVersion is { } p ? new ModelVersionRef(p.RegisteredModel!.Name, p.Version) : null,
                File.Exists(RegistryService.PyTorchPath(paths.Resolve(v.ArtifactPath)))))
            .ToList());
}
