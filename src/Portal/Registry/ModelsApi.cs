using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Registry;

public sealed record ModelVersionView(
    int Version, string Stage, int RunId, double? TestAccuracy, DateTime CreatedAt, string CreatedBy,
    DateTime? StageChangedAt, string? StageChangedBy);

public sealed record ModelView(string Name, DateTime CreatedAt, string CreatedBy, IReadOnlyList<ModelVersionView> Versions);

public sealed record RegisterRequest(int RunId);

public sealed record StageRequest(string Stage);

public static class ModelsApi
{
    public static RouteGroupBuilder MapModelsApi(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/models").WithTags("Models");
        models.MapGet("/", List);
        models.MapGet("/{name}", Get);
        models.MapPost("/{name}/versions", Register);
        models.MapPost("/{name}/versions/{version:int}/stage", SetStage);
        return api;
    }

    public static async Task<IReadOnlyList<ModelView>> List(PortalDb db, CancellationToken ct)
    {
        var models = await db.RegisteredModels.AsNoTracking().Include(m => m.Versions).ThenInclude(v => v.Run).OrderBy(m => m.Name).ToListAsync(ct);
        return models.Select(ToView).ToList();
    }

    public static async Task<ModelView> Get(string name, PortalDb db, CancellationToken ct) =>
        ToView(await db.RegisteredModels.AsNoTracking().Include(m => m.Versions).ThenInclude(v => v.Run).FirstOrDefaultAsync(m => m.Name == name, ct)
               ?? throw PortalException.NotFound($"Model '{name}'"));

    public static async Task<IResult> Register(string name, RegisterRequest request, RegistryService registry, PortalDb db, CancellationToken ct)
    {
        var version = await registry.RegisterAsync(request.RunId, name, ct);
        return TypedResults.Created($"/api/v1/models/{version.RegisteredModel!.Name}", await Get(version.RegisteredModel.Name, db, ct));
    }

    public static async Task<ModelView> SetStage(string name, int version, StageRequest request, RegistryService registry, PortalDb db, CancellationToken ct)
    {
        await registry.PromoteAsync(name, version, request.Stage, ct);
        return await Get(name, db, ct);
    }

    private static ModelView ToView(RegisteredModel m) => new(m.Name, m.CreatedAt, m.CreatedBy,
        m.Versions.OrderByDescending(v => v.Version)
            .Select(v => new ModelVersionView(v.Version, v.Stage, v.RunId, v.Run?.TestAccuracy, v.CreatedAt, v.CreatedBy, v.StageChangedAt, v.StageChangedBy))
            .ToList());
}
