using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Identity;

/// <summary>The claims a token's principal carries beside the name (docs/identity.md).</summary>
public static class PortalClaims
{
    public const string TokenId = "mop:token";
    public const string ReadOnly = "mop:readonly";
    public const string ServiceTeam = "mop:team";
    public const string ServiceRole = "mop:role";
    public const string WorkerRun = "mop:run";
    /// <summary>The header an API client names the team it works in with (id or name); the UI keeps it in a cookie.</summary>
    public const string TeamHeader = "X-ModelOps-Team";
    public const string TeamCookie = "mop.team";
}

/// <summary>
/// Who may do what to which team's resources, checked in every API handler and UI action (not only
/// on pages). The role is read from the store on every check, so a revoked role or a disabled user
/// stops the next action, in an open circuit as on the API (read through <see cref="AccessCache"/>,
/// which refills after any committed change to users, memberships, teams or tokens). A resource of a team the caller is not in
/// answers 404, as if it did not exist; a lower role than needed answers 403.
/// </summary>
public sealed class Access(CurrentUser user, IDbContextFactory<PortalDb> dbs, IHttpContextAccessor http, CircuitPrincipal circuit)
{
    // Roles come from memory at the current access generation (AccessCache): as fresh as a store read.
    private readonly AccessCache cache = AccessCache.For(dbs);

    public CurrentUser User => user;

    /// <summary>The caller's role in the team, or null when they have none (or none any more).</summary>
    public async Task<TeamRole?> RoleAsync(int teamId, CancellationToken ct = default)
    {
        var principal = user.Principal;
        if (principal is null || principal.HasClaim(c => c.Type == PortalClaims.WorkerRun)) return null;
        if (principal.FindFirstValue(PortalClaims.ServiceTeam) is { } serviceTeam)
            return serviceTeam == teamId.ToString() && Enum.TryParse<TeamRole>(principal.FindFirstValue(PortalClaims.ServiceRole), out var serviceRole) ? serviceRole : null;
        if (user.UserId is not { } userId) return null;
        var standing = await cache.UserAsync(dbs, userId, ct);
        if (standing.SiteAdmin is not { } siteAdmin) return null;
        TeamRole? role = siteAdmin && Array.BinarySearch(await cache.TeamIdsAsync(dbs, ct), teamId) >= 0
            ? TeamRole.Admin
            : standing.Roles.TryGetValue(teamId, out var member) ? member : null;
        return role is not null && principal.HasClaim(PortalClaims.ReadOnly, "true") ? TeamRole.Viewer : role;
    }

    /// <summary>
    /// Refuses unless the caller holds at least <paramref name="needed"/> in the team: 404 naming
    /// <paramref name="resource"/> when they are not in it at all, 403 when their role is lower.
    /// </summary>
    public async Task<TeamRole> RequireAsync(int teamId, TeamRole needed, FormattableString resource, CancellationToken ct = default)
    {
        var role = await RoleAsync(teamId, ct) ?? throw PortalException.NotFound(resource);
        if (role < needed)
            throw new PortalException(PortalError.Forbidden, $"This needs the {needed} role in the team that owns {resource}; you are a {role}.");
        return role;
    }

    public async Task<bool> HasAsync(int teamId, TeamRole needed, CancellationToken ct = default) =>
        await RoleAsync(teamId, ct) is { } role && role >= needed;

    /// <summary>The teams the caller holds at least <paramref name="least"/> in, by id.</summary>
    public async Task<IReadOnlyList<int>> TeamsAsync(TeamRole least = TeamRole.Viewer, CancellationToken ct = default)
    {
        var principal = user.Principal;
        if (principal is null || principal.HasClaim(c => c.Type == PortalClaims.WorkerRun)) return [];
        if (principal.FindFirstValue(PortalClaims.ServiceTeam) is { } serviceTeam)
            return Enum.TryParse<TeamRole>(principal.FindFirstValue(PortalClaims.ServiceRole), out var role) && role >= least && int.TryParse(serviceTeam, out var id) ? [id] : [];
        if (user.UserId is not { } userId) return [];
        if (principal.HasClaim(PortalClaims.ReadOnly, "true") && least > TeamRole.Viewer) return [];
        var standing = await cache.UserAsync(dbs, userId, ct);
        if (standing.SiteAdmin is not { } siteAdmin) return [];
        if (siteAdmin) return await cache.TeamIdsAsync(dbs, ct);
        return standing.Roles.Where(m => m.Value >= least).Select(m => m.Key).Order().ToList();
    }

    public async Task<bool> IsSiteAdminAsync(CancellationToken ct = default)
    {
        if (user.UserId is not { } userId || user.Principal?.HasClaim(PortalClaims.ReadOnly, "true") == true) return false;
        return (await cache.UserAsync(dbs, userId, ct)).SiteAdmin == true;
    }

    /// <summary>
    /// The audit trail is for Admins and Approvers: a site Admin reads every event (null), a team's
    /// Approver or Admin that team's; anyone else is refused.
    /// </summary>
    public async Task<IReadOnlyCollection<int>?> AuditScopeAsync(CancellationToken ct = default)
    {
        if (await IsSiteAdminAsync(ct)) return null;
        var teams = await TeamsAsync(TeamRole.Approver, ct);
        return teams.Count > 0 ? teams : throw new PortalException(PortalError.Forbidden, $"The audit trail is for Admins and Approvers.");
    }

    /// <summary>
    /// What a list shows. In the browser (the sign-in cookie, a page's circuit): the team the app bar's
    /// switch chose, or the first. For a token: the team its request names with the header, else every
    /// team the caller reads.
    /// </summary>
    public async Task<IReadOnlyList<int>> ListTeamsAsync(CancellationToken ct = default)
    {
        var byToken = user.Principal?.Identity?.AuthenticationType == TokenAuthentication.Name;
        if (byToken && http.HttpContext?.Request.Headers.ContainsKey(PortalClaims.TeamHeader) != true)
            return await TeamsAsync(TeamRole.Viewer, ct);
        return await CurrentTeamAsync(ct) is { } team ? [team] : [];
    }

    /// <summary>
    /// The team the caller works in: a service token's own; else the one the request names
    /// (<see cref="PortalClaims.TeamHeader"/> on the API, the team switch's cookie in the UI) when the
    /// caller is in it; else the first of their teams. Null when they are in none.
    /// </summary>
    public async Task<int?> CurrentTeamAsync(CancellationToken ct = default)
    {
        var teams = await TeamsAsync(TeamRole.Viewer, ct);
        if (teams.Count == 0) return null;
        var request = http.HttpContext?.Request;
        var named = request?.Headers[PortalClaims.TeamHeader].ToString() is { Length: > 0 } header ? header
            : request?.Cookies[PortalClaims.TeamCookie] ?? circuit.Team;
        if (string.IsNullOrWhiteSpace(named)) return teams[0];
        if (int.TryParse(named, out var id)) return teams.Contains(id) ? id : NamedTeamUnknown(named) ?? teams[0];
        await using var db = await dbs.CreateDbContextAsync(ct);
        var byName = await db.Teams.Where(t => t.Name == named.Trim()).Select(t => (int?)t.Id).FirstOrDefaultAsync(ct);
        return byName is { } found && teams.Contains(found) ? found : NamedTeamUnknown(named) ?? teams[0];
    }

    /// <summary>The team to create in, with the role it needs; a caller without one gets the reason.</summary>
    public async Task<int> TeamToWriteAsync(TeamRole needed, CancellationToken ct = default)
    {
        var team = await CurrentTeamAsync(ct) ?? throw new PortalException(PortalError.Forbidden, $"You are not a member of any team yet; ask an Admin to add you to one.");
        await RequireAsync(team, needed, $"Team {team}", ct);
        return team;
    }

    private int? NamedTeamUnknown(string named)
    {
        // A cookie left from a team one was removed from falls back quietly; a header naming one is an error.
        if (http.HttpContext?.Request.Headers.ContainsKey(PortalClaims.TeamHeader) == true)
            throw PortalException.NotFound($"Team {named.Trim()}");
        return null;
    }
}

/// <summary>
/// What the auth hot path reads per request, kept in memory at the <see cref="StoreGenerations.Access"/>
/// generation it was read at (docs/identity.md): a token's row and its user, a user's site-Admin flag
/// and team roles, the team ids. Any committed SaveChanges touching users, memberships, teams or tokens
/// bumps the generation, so the next request reads the store again: a revoked token, a disabled user or
/// a removed role stops the very next request in this process. The generation is read before the store,
/// so a change that lands during a refill leaves an entry that is already stale. One cache per store
/// (per <see cref="IDbContextFactory{TContext}"/>), so portals sharing a test process never share entries.
/// </summary>
public sealed class AccessCache
{
    private const int MaxEntries = 10_000;
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, AccessCache> ByStore = new();

    public static AccessCache For(IDbContextFactory<PortalDb> dbs) => ByStore.GetValue(dbs, _ => new AccessCache());

    /// <summary>A token's row and, for a personal token, whether its user is enabled and their name; LastUsedTicks is the last touch written.</summary>
    public sealed class TokenEntry
    {
        public required long Generation { get; init; }
        public required int Id { get; init; }
        public required string Name { get; init; }
        public DateTime? RevokedAt { get; init; }
        public DateTime? ExpiresAt { get; init; }
        public int? UserId { get; init; }
        public bool UserEnabled { get; init; }
        public string UserName { get; init; } = "";
        public bool ReadOnly { get; init; }
        public int? TeamId { get; init; }
        public TeamRole? Role { get; init; }
        public long LastUsedTicks;
    }

    /// <summary>A user's standing: null SiteAdmin when they do not exist or are disabled.</summary>
    public sealed record UserEntry(long Generation, bool? SiteAdmin, IReadOnlyDictionary<int, TeamRole> Roles);

    private sealed record TeamsEntry(long Generation, int[] Ids);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TokenEntry> _tokens = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, UserEntry> _users = new();
    private volatile TeamsEntry? _teams;

    public async Task<TokenEntry?> TokenAsync(PortalDb db, string hash, CancellationToken ct)
    {
        var generation = StoreGenerations.Access;
        if (_tokens.TryGetValue(hash, out var cached) && cached.Generation == generation) return cached;
        var found = await db.ApiTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, ct);
        if (found is null)
        {
            _tokens.TryRemove(hash, out _);
            return null;
        }
        var user = found.UserId is { } userId
            ? await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.UserName, u.DisabledAt }).FirstOrDefaultAsync(ct)
            : null;
        var entry = new TokenEntry
        {
            Generation = generation, Id = found.Id, Name = found.Name, RevokedAt = found.RevokedAt, ExpiresAt = found.ExpiresAt,
            UserId = found.UserId, UserEnabled = user is not null && user.DisabledAt is null, UserName = user?.UserName ?? "",
            ReadOnly = found.ReadOnly, TeamId = found.TeamId, Role = found.Role, LastUsedTicks = found.LastUsedAt?.Ticks ?? 0,
        };
        Store(_tokens, hash, entry);
        return entry;
    }

    public async Task<UserEntry> UserAsync(IDbContextFactory<PortalDb> dbs, int userId, CancellationToken ct)
    {
        var generation = StoreGenerations.Access;
        if (_users.TryGetValue(userId, out var cached) && cached.Generation == generation) return cached;
        await using var db = await dbs.CreateDbContextAsync(ct);
        var siteAdmin = await db.Users.AsNoTracking().Where(u => u.Id == userId && u.DisabledAt == null).Select(u => (bool?)u.IsSiteAdmin).FirstOrDefaultAsync(ct);
        var roles = siteAdmin is null
            ? new Dictionary<int, TeamRole>()
            : await db.TeamMembers.AsNoTracking().Where(m => m.UserId == userId).ToDictionaryAsync(m => m.TeamId, m => m.Role, ct);
        var entry = new UserEntry(generation, siteAdmin, roles);
        Store(_users, userId, entry);
        return entry;
    }

    /// <summary>Every team's id, ascending.</summary>
    public async Task<int[]> TeamIdsAsync(IDbContextFactory<PortalDb> dbs, CancellationToken ct)
    {
        var generation = StoreGenerations.Access;
        if (_teams is { } cached && cached.Generation == generation) return cached.Ids;
        await using var db = await dbs.CreateDbContextAsync(ct);
        var ids = await db.Teams.AsNoTracking().OrderBy(t => t.Id).Select(t => t.Id).ToArrayAsync(ct);
        _teams = new TeamsEntry(generation, ids);
        return ids;
    }

    private static void Store<TKey, TValue>(System.Collections.Concurrent.ConcurrentDictionary<TKey, TValue> map, TKey key, TValue value) where TKey : notnull
    {
        // Bounded: garbage tokens are never stored, but many users or tokens could be; a full map starts over.
        if (map.Count >= MaxEntries) map.Clear();
        map[key] = value;
    }
}
