using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Identity;

/// <summary>
/// "Authorization: Bearer ..." on any route (docs/identity.md): an API token (mop_...), personal or
/// service, or the token of a training run's current attempt. Every request checks the token's row
/// and, for a personal token, its user, from <see cref="AccessCache"/> (refilled after any committed
/// change to tokens or users): a revoked or expired token, or a disabled user, stops at once.
/// A token that is not valid is a 401 with the reason, never a fall-back to another identity.
/// </summary>
public sealed partial class TokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IDbContextFactory<PortalDb> dbs) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private readonly AccessCache cache = AccessCache.For(dbs);
    public const string Name = "Bearer";
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0) return AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            throw new PortalException(PortalError.Unauthorized, $"The Authorization header must be 'Bearer <token>'.");
        var token = header[7..].Trim();
        var hash = ApiCallers.Hash(token);
        var ct = Context.RequestAborted;
        await using var db = await dbs.CreateDbContextAsync(ct);
        if (!token.StartsWith(ApiCallers.TokenPrefix, StringComparison.Ordinal))
        {
            var runId = await db.Runs.Where(r => r.WorkerTokenHash == hash).Select(r => (int?)r.Id).FirstOrDefaultAsync(ct);
            if (runId is null)
            {
                // On a run's routes it is most likely an earlier attempt's token, which the worker protocol answers with 403.
                if (RunRoute().Match(Request.Path.Value ?? "") is { Success: true } route)
                    throw new PortalException(PortalError.Forbidden, $"This token does not belong to the current attempt of run {route.Groups[1].Value}.");
                throw new PortalException(PortalError.Unauthorized, $"The bearer token is neither an API token nor the token of a running attempt.");
            }
            new Caller(CallerKind.Worker, RunId: runId).Attach(Context);
            return Success([new(ClaimTypes.Name, $"run:{runId}"), new(PortalClaims.WorkerRun, runId.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        }
        var now = DateTime.UtcNow;
        var found = await cache.TokenAsync(db, hash, ct)
            ?? throw new PortalException(PortalError.Unauthorized, $"The API token is not known.");
        if (found.RevokedAt is not null) throw new PortalException(PortalError.Unauthorized, $"The API token was revoked.");
        // Against the clock on every request, cached or not.
        if (found.ExpiresAt <= now) throw new PortalException(PortalError.Unauthorized, $"The API token has expired.");
        var claims = new List<Claim> { new(PortalClaims.TokenId, found.Id.ToString()) };
        if (found.UserId is { } userId)
        {
            if (!found.UserEnabled)
                throw new PortalException(PortalError.Unauthorized, $"The API token's user is disabled.");
            claims.Add(new(ClaimTypes.NameIdentifier, userId.ToString()));
            claims.Add(new(ClaimTypes.Name, found.UserName));
            if (found.ReadOnly) claims.Add(new(PortalClaims.ReadOnly, "true"));
        }
        else if (found is { TeamId: { } teamId, Role: { } role })
        {
            claims.Add(new(ClaimTypes.Name, $"service:{found.Name}"));
            claims.Add(new(PortalClaims.ServiceTeam, teamId.ToString()));
            claims.Add(new(PortalClaims.ServiceRole, role.ToString()));
        }
        else
        {
            throw new PortalException(PortalError.Unauthorized, $"The API token is not known.");
        }
        // Last use is kept to the minute (one write per token per minute): a write per request would cost the hot paths.
        // One request claims the touch; a bulk update leaves the access generation (and every cache) alone.
        var last = Interlocked.Read(ref found.LastUsedTicks);
        if (now.Ticks - last > TouchEvery.Ticks && Interlocked.CompareExchange(ref found.LastUsedTicks, now.Ticks, last) == last)
            await db.ApiTokens.Where(t => t.Id == found.Id).ExecuteUpdateAsync(u => u.SetProperty(t => t.LastUsedAt, now), ct);
        new Caller(CallerKind.User, claims.First(c => c.Type == ClaimTypes.Name).Value, TokenId: found.Id).Attach(Context);
        return Success(claims);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^/api/v1/runs/(\d+)/")]
    private static partial System.Text.RegularExpressions.Regex RunRoute();

    private AuthenticateResult Success(IEnumerable<Claim> claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, Name)), Name));

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        throw new PortalException(PortalError.Unauthorized, $"Sign in, or send 'Authorization: Bearer mop_...' (create a token on the Tokens page).");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        throw new PortalException(PortalError.Forbidden, $"Your identity may not do this.");
}
