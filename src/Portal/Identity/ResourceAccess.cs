using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Identity;

/// <summary>An API route that needs another role than its method implies (GET Viewer, DELETE Admin, other writes Editor).</summary>
public sealed record NeedsRole(TeamRole Role, bool OrNew = false);

/// <summary>
/// One check in front of every /api/v1 route that names a resource (docs/identity.md): the run,
/// experiment, dataset, registered model or schedule in the route is looked up, and the caller needs a
/// role in its team, by method: GET and HEAD Viewer, DELETE Admin, any other write Editor, unless the
/// route says otherwise with <see cref="NeedsRole"/>. Another team's resource, or a missing one,
/// answers 404. Handlers still check what depends on the request (a promotion needs Approver), and
/// lists filter by the caller's teams. A worker's token passes only for its own run's routes.
/// </summary>
public static class ResourceAccess
{
    public static RouteGroupBuilder RequireResourceAccess(this RouteGroupBuilder api)
    {
        api.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (Resource(http) is { } resource)
            {
                var caller = Caller.Of(http);
                if (caller.Kind == CallerKind.Worker)
                {
                    if (!await WorkerMayAsync(http, caller, resource))
                        throw NotFound(resource);
                }
                else
                {
                    var needs = http.GetEndpoint()?.Metadata.GetMetadata<NeedsRole>();
                    var found = await TeamOfAsync(http.RequestServices, resource, http.RequestAborted);
                    // A route that creates what it names (a new model's first version) checks in its handler.
                    if (found is null && needs?.OrNew == true) return await next(context);
                    var team = found ?? throw NotFound(resource);
                    var needed = needs?.Role ?? ByMethod(http.Request.Method);
                    var role = await http.RequestServices.GetRequiredService<Access>().RoleAsync(team, http.RequestAborted) ?? throw NotFound(resource);
                    if (role < needed)
                        throw new PortalException(PortalError.Forbidden, $"This needs the {needed} role in the team that owns {Describe(resource)}; you are a {role}.");
                }
            }
            return await next(context);
        });
        return api;
    }

    private sealed record Named(string Kind, string Key);

    /// <summary>A worker's token reaches its own run's routes, and reads the dataset its run trains on.</summary>
    private static async Task<bool> WorkerMayAsync(HttpContext http, Caller caller, Named resource)
    {
        if (resource.Kind == "runs") return resource.Key == caller.RunId.ToString();
        if (resource.Kind != "datasets" || !HttpMethods.IsGet(http.Request.Method)) return false;
        var db = http.RequestServices.GetRequiredService<PortalDb>();
        var dataset = await db.Runs.Where(r => r.Id == caller.RunId).Select(r => (int?)r.DatasetVersion!.DatasetId).FirstOrDefaultAsync(http.RequestAborted);
        return dataset?.ToString() == resource.Key;
    }

    private static TeamRole ByMethod(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? TeamRole.Viewer
        : HttpMethods.IsDelete(method) ? TeamRole.Admin
        : TeamRole.Editor;

    /// <summary>The resource a route names: its first segment after /api/v1 and the route value right after it.</summary>
    private static Named? Resource(HttpContext http)
    {
        var pattern = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern;
        if (pattern is null || pattern.PathSegments.Count < 4) return null;
        var kind = pattern.PathSegments[2].Parts is [Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal] ? literal.Content : null;
        var parameter = pattern.PathSegments[3].Parts is [Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart p] ? p.Name : null;
        if (kind is null || parameter is null || http.Request.RouteValues[parameter]?.ToString() is not { } key) return null;
        return kind is "runs" or "experiments" or "datasets" or "models" or "schedules" ? new Named(kind, key) : null;
    }

    private static async Task<int?> TeamOfAsync(IServiceProvider services, Named resource, CancellationToken ct)
    {
        // A model's team comes from Serving's in-memory deployment table (refilled at the serving
        // generation, which moves after any committed change to a registered model), so the predict path reads no row.
        if (resource.Kind == "models")
            return (await services.GetRequiredService<Serving.DeploymentTable>().FindAsync(resource.Key, ct))?.TeamId;
        var db = services.GetRequiredService<PortalDb>();
        if (!int.TryParse(resource.Key, out var id)) return null;
        return resource.Kind switch
        {
            "runs" => await db.Runs.Where(r => r.Id == id && r.DeletedAt == null).Select(r => (int?)r.Experiment!.TeamId).FirstOrDefaultAsync(ct),
            "experiments" => await db.Experiments.Where(e => e.Id == id && e.DeletedAt == null).Select(e => (int?)e.TeamId).FirstOrDefaultAsync(ct),
            "datasets" => await db.Datasets.Where(d => d.Id == id).Select(d => (int?)d.TeamId).FirstOrDefaultAsync(ct),
            "schedules" => await db.Schedules.Where(s => s.Id == id).Select(s => (int?)s.TeamId).FirstOrDefaultAsync(ct),
            _ => null,
        };
    }

    private static PortalException NotFound(Named resource) => resource.Kind switch
    {
        "runs" => PortalException.NotFound($"Run {resource.Key}"),
        "experiments" => PortalException.NotFound($"Experiment {resource.Key}"),
        "datasets" => PortalException.NotFound($"Dataset {resource.Key}"),
        "models" => PortalException.NotFound($"Model '{resource.Key}'"),
        _ => PortalException.NotFound($"Schedule {resource.Key}"),
    };

    private static string Describe(Named resource) => $"{resource.Kind[..^1]} {resource.Key}";
}
