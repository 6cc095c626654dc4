using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Identity;

public sealed record NewTeam(string? Name, string? Description);
public sealed record MemberRole(string? Role);
public sealed record NewUser(string? UserName, string? DisplayName, string? Password = null, bool SiteAdmin = false);
public sealed record PasswordReset(int Id, string Password);
/// <summary>A member as the API writes it: the role by name.</summary>
public sealed record MemberJson(int UserId, string UserName, string? DisplayName, string Role, bool Disabled)
{
    public static MemberJson Of(MemberView m) => new(m.UserId, m.UserName, m.DisplayName, m.Role.ToString(), m.Disabled);
}
public sealed record MembershipJson(int TeamId, string Team, string Role);
public sealed record UserJson(int Id, string UserName, string? DisplayName, bool IsSiteAdmin, bool Disabled, DateTime CreatedAt, IReadOnlyList<MembershipJson> Teams)
{
    public static UserJson Of(UserView u) =>
        new(u.Id, u.UserName, u.DisplayName, u.IsSiteAdmin, u.Disabled, u.CreatedAt, u.Teams.Select(t => new MembershipJson(t.TeamId, t.Team, t.Role.ToString())).ToList());
}

/// <summary>
/// Teams, members and users (docs/identity.md). <see cref="People"/> trusts its caller, so each
/// handler checks with <see cref="Access"/> first: a team the caller is not in answers 404, a lower
/// role 403; users and new teams are for a site Admin. The /api/v1 group's resource filter does not
/// cover these routes. A worker's token may not call them.
/// </summary>
public static class TeamsApi
{
    public static RouteGroupBuilder MapTeamsApi(this RouteGroupBuilder api)
    {
        var teams = api.MapGroup("/teams").WithTags("Teams");
        teams.MapGet("/", async (HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            RefuseWorkers(http);
            return await people.TeamsAsync(await access.TeamsAsync(TeamRole.Viewer, ct), ct);
        });
        teams.MapPost("/", async (NewTeam request, HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            await RequireSiteAdminAsync(http, access, ct);
            var team = await people.CreateTeamAsync(request.Name, request.Description, ct);
            return TypedResults.Created($"/api/v1/teams/{team.Id}", team);
        });
        teams.MapGet("/{id:int}/members", async (int id, HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            RefuseWorkers(http);
            await access.RequireAsync(id, TeamRole.Viewer, $"Team {id}", ct);
            return (await people.MembersAsync(id, ct)).Select(MemberJson.Of).ToList();
        });
        teams.MapPut("/{id:int}/members/{userName}", async (int id, string userName, MemberRole request, HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            RefuseWorkers(http);
            await access.RequireAsync(id, TeamRole.Admin, $"Team {id}", ct);
            var role = ParseRole(request.Role);
            await people.SetMemberAsync(id, userName, role, ct);
            return MemberJson.Of((await people.MembersAsync(id, ct)).First(m => string.Equals(m.UserName, userName.Trim(), StringComparison.OrdinalIgnoreCase)));
        });
        teams.MapDelete("/{id:int}/members/{userId:int}", async (int id, int userId, HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            RefuseWorkers(http);
            await access.RequireAsync(id, TeamRole.Admin, $"Team {id}", ct);
            await people.RemoveMemberAsync(id, userId, ct);
            return TypedResults.NoContent();
        });

        var users = api.MapGroup("/users").WithTags("Teams");
        users.MapGet("/", async (HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            await RequireSiteAdminAsync(http, access, ct);
            return (await people.UsersAsync(ct)).Select(UserJson.Of).ToList();
        });
        users.MapPost("/", async (NewUser request, HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            await RequireSiteAdminAsync(http, access, ct);
            var created = await people.CreateUserAsync(request.UserName, request.DisplayName, request.Password, request.SiteAdmin, ct);
            return TypedResults.Created($"/api/v1/users/{created.Id}", created);
        });
        users.MapPost("/{id:int}/disable", async (int id, HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            await RequireSiteAdminAsync(http, access, ct);
            await people.SetDisabledAsync(id, true, ct);
            return TypedResults.NoContent();
        });
        users.MapPost("/{id:int}/enable", async (int id, HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            await RequireSiteAdminAsync(http, access, ct);
            await people.SetDisabledAsync(id, false, ct);
            return TypedResults.NoContent();
        });
        users.MapPost("/{id:int}/reset-password", async (int id, HttpContext http, Access access, People people, CancellationToken ct) =>
        {
            await RequireSiteAdminAsync(http, access, ct);
            return new PasswordReset(id, await people.ResetPasswordAsync(id, ct));
        });
        return api;
    }

    /// <summary>A role by name (Viewer, Editor, Approver, Admin; any case), or a 400 that lists them.</summary>
    public static TeamRole ParseRole(string? text) =>
        TeamRoles.TryParse(text, out var role) ? role : throw PortalException.Invalid($"A role is Viewer, Editor, Approver or Admin.", "role");

    private static void RefuseWorkers(HttpContext http) =>
        Caller.RefuseWorkers(http, $"Teams and users are managed with an API token or in the browser, not with a worker's token.");

    private static async Task RequireSiteAdminAsync(HttpContext http, Access access, CancellationToken ct)
    {
        RefuseWorkers(http);
        if (!await access.IsSiteAdminAsync(ct))
            throw new PortalException(PortalError.Forbidden, $"Only a site Admin manages users and creates teams.");
    }
}
