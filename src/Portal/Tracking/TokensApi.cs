using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Tracking;

/// <summary>
/// A personal token (no team) acts as its creator, optionally read-only; a service token names a team
/// the creator is Admin of and the role it acts with there (docs/identity.md).
/// </summary>
public sealed record NewToken(string? Name, int? ExpiresInDays = null, bool ReadOnly = false, int? TeamId = null, string? Role = null);

/// <summary>The token text appears only in the reply to its creation.</summary>
public sealed record CreatedToken(int Id, string Name, string Token, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt);

public sealed record TokenView(int Id, string Name, string Owner, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? LastUsedAt, DateTime? RevokedAt,
    string Kind = "personal", int? TeamId = null, string? Role = null, bool ReadOnly = false);

/// <summary>The columns a token list can be ordered by (the Tokens page's table).</summary>
public enum TokenOrder { Newest, Name, Owner, Created, Expires, LastUsed }

/// <summary>API tokens for scripts and other non-browser clients (docs/tracking.md).</summary>
public sealed class TokenService(PortalDb db, CurrentUser user, Identity.Access access)
{
    public Task<CreatedToken> CreateAsync(string? name, int? expiresInDays, CancellationToken ct) => CreateAsync(new NewToken(name, expiresInDays), ct);

    /// <summary>Checks the caller may make it: anyone signed in for a personal token (not with a token that is read-only), a team's Admin for a service token.</summary>
    public async Task<CreatedToken> CreateAsync(NewToken request, CancellationToken ct)
    {
        Identity.TeamRole? role = null;
        if (request.TeamId is { } teamId)
        {
            await access.RequireAsync(teamId, Identity.TeamRole.Admin, $"Team {teamId}", ct);
            if (!Identity.TeamRoles.TryParse(request.Role, out var parsed))
                throw PortalException.Invalid($"A service token needs a role: Viewer, Editor, Approver or Admin.", "role");
            role = parsed;
        }
        else if (user.UserId is null || user.Principal?.HasClaim(Identity.PortalClaims.ReadOnly, "true") == true)
        {
            throw new PortalException(PortalError.Forbidden, $"Personal tokens are made by a signed-in user (or with one of their tokens that is not read-only).");
        }
        return await IssueAsync(request.Name, request.ExpiresInDays, request.TeamId is null ? user.UserId : null, user.Name, request.TeamId, role, request.ReadOnly, ct);
    }

    /// <summary>Writes the token; the caller has checked who may. For a personal token <paramref name="userId"/> is its user.</summary>
    public async Task<CreatedToken> IssueAsync(string? name, int? expiresInDays, int? userId, string owner, int? teamId, Identity.TeamRole? role, bool readOnly, CancellationToken ct)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length is 0 or > 100 || trimmed.Any(char.IsControl))
            throw PortalException.Invalid($"A token needs a name of 1-100 printable characters, so you can tell it apart later.", "name");
        if (expiresInDays is < 1 or > 3650)
            throw PortalException.Invalid($"expiresInDays must be between 1 and 3650, or left out for a token that does not expire.", "expiresInDays");
        var token = ApiCallers.NewToken();
        var now = DateTime.UtcNow;
        var row = new ApiToken
        {
            Name = trimmed, Owner = owner, Prefix = token[..10], TokenHash = ApiCallers.Hash(token), CreatedAt = now,
            ExpiresAt = expiresInDays is { } days ? now.AddDays(days) : null,
            UserId = userId, TeamId = teamId, Role = role, ReadOnly = readOnly && userId is not null,
        };
        db.ApiTokens.Add(row);
        db.AuditEvents.Add(new AuditEvent
        {
            At = now, Actor = owner, Action = "token.created", Subject = $"token:{row.Prefix}", TeamId = teamId,
            Details = teamId is null ? (row.ReadOnly ? $"{trimmed} (personal, read-only)" : $"{trimmed} (personal)") : $"{trimmed} (service, {role})",
        });
        await db.SaveChangesAsync(ct);
        return new CreatedToken(row.Id, row.Name, token, row.Prefix, row.CreatedAt, row.ExpiresAt);
    }

    public async Task<IReadOnlyList<TokenView>> ListAsync(CancellationToken ct) =>
        await (await VisibleAsync(ct)).AsNoTracking().OrderByDescending(t => t.Id).Select(View).ToListAsync(ct);

    private static readonly System.Linq.Expressions.Expression<Func<ApiToken, TokenView>> View = t =>
        new TokenView(t.Id, t.Name, t.Owner, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt, t.TeamId == null ? "personal" : "service", t.TeamId,
            t.Role == null ? null : t.Role.ToString(), t.ReadOnly);

    /// <summary>One's own personal tokens, and the service tokens of the teams one is Admin of.</summary>
    private async Task<IQueryable<ApiToken>> VisibleAsync(CancellationToken ct)
    {
        var admin = await access.TeamsAsync(Identity.TeamRole.Admin, ct);
        var me = user.UserId;
        return db.ApiTokens.Where(t => (t.UserId != null && t.UserId == me) || (t.TeamId != null && admin.Contains(t.TeamId.Value)));
    }

    /// <summary>One page of the token list, ordered and paged in SQL (ties break on id, newest first), and the count of all tokens.</summary>
    public async Task<(IReadOnlyList<TokenView> Tokens, int Total)> PageAsync(TokenOrder order, bool descending, int skip, int take, CancellationToken ct)
    {
        var query = (await VisibleAsync(ct)).AsNoTracking();
        var ordered = (order, descending) switch
        {
            (TokenOrder.Name, false) => query.OrderBy(t => t.Name).ThenByDescending(t => t.Id),
            (TokenOrder.Name, true) => query.OrderByDescending(t => t.Name).ThenByDescending(t => t.Id),
            (TokenOrder.Owner, false) => query.OrderBy(t => t.Owner).ThenByDescending(t => t.Id),
            (TokenOrder.Owner, true) => query.OrderByDescending(t => t.Owner).ThenByDescending(t => t.Id),
            (TokenOrder.Created, false) => query.OrderBy(t => t.Id),
            (TokenOrder.Expires, false) => query.OrderBy(t => t.ExpiresAt == null).ThenBy(t => t.ExpiresAt).ThenByDescending(t => t.Id),
            (TokenOrder.Expires, true) => query.OrderBy(t => t.ExpiresAt == null).ThenByDescending(t => t.ExpiresAt).ThenByDescending(t => t.Id),
            (TokenOrder.LastUsed, false) => query.OrderBy(t => t.LastUsedAt == null).ThenBy(t => t.LastUsedAt).ThenByDescending(t => t.Id),
            (TokenOrder.LastUsed, true) => query.OrderBy(t => t.LastUsedAt == null).ThenByDescending(t => t.LastUsedAt).ThenByDescending(t => t.Id),
            _ => query.OrderByDescending(t => t.Id),
        };
        var total = await query.CountAsync(ct);
        var page = await ordered.Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 1000))
            .Select(View).ToListAsync(ct);
        return (page, total);
    }

    public async Task RevokeAsync(int id, CancellationToken ct)
    {
        if (user.Principal?.HasClaim(Identity.PortalClaims.ReadOnly, "true") == true)
            throw new PortalException(PortalError.Forbidden, $"A read-only token cannot revoke tokens.");
        // Another's token answers as if it did not exist.
        var token = await (await VisibleAsync(ct)).FirstOrDefaultAsync(t => t.Id == id, ct) ?? throw PortalException.NotFound($"Token {id}");
        if (token.RevokedAt is not null) return;
        token.RevokedAt = DateTime.UtcNow;
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "token.revoked", Subject = $"token:{token.Prefix}", Details = token.Name, TeamId = token.TeamId, Before = "active", After = "revoked" });
        await db.SaveChangesAsync(ct);
    }
}

public static class TokensApi
{
    public static RouteGroupBuilder MapTokensApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/tokens").WithTags("Tokens");
        group.MapPost("/", async (NewToken request, HttpContext http, TokenService tokens, CancellationToken ct) =>
        {
            Caller.RefuseWorkers(http, $"Tokens are managed with an API token or in the browser, not with a worker's token.");
            var created = await tokens.CreateAsync(request, ct);
            return TypedResults.Created($"/api/v1/tokens/{created.Id}", created);
        }).RequireRateLimiting(Identity.IdentitySetup.TokenLimit);
        group.MapGet("/", (HttpContext http, TokenService tokens, CancellationToken ct) =>
        {
            Caller.RefuseWorkers(http, $"Tokens are managed with an API token or in the browser, not with a worker's token.");
            return tokens.ListAsync(ct);
        });
        group.MapDelete("/{id:int}", async (int id, HttpContext http, TokenService tokens, CancellationToken ct) =>
        {
            Caller.RefuseWorkers(http, $"Tokens are managed with an API token or in the browser, not with a worker's token.");
            await tokens.RevokeAsync(id, ct);
            return TypedResults.NoContent();
        });
        return api;
    }

}
