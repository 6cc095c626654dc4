using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Tracking;

public enum CallerKind
{
    /// <summary>No token. Allowed unless ModelOps:RequireApiToken is set.</summary>
    Anonymous,
    /// <summary>An API token: acts as its owner.</summary>
    User,
    /// <summary>The token of a training run's current attempt: that run only.</summary>
    Worker,
    /// <summary>A bearer token that is neither; the worker routes answer it with a 403, others with a 401.</summary>
    Unrecognised,
}

public sealed record Caller(CallerKind Kind, string? User = null, int? TokenId = null, int? RunId = null)
{
    public static readonly Caller Anonymous = new(CallerKind.Anonymous);
    private const string ItemKey = "ModelOps.Caller";

    public static Caller Of(HttpContext? http) =>
        http?.Items.TryGetValue(ItemKey, out var value) == true && value is Caller caller ? caller : Anonymous;

    internal void Attach(HttpContext http) => http.Items[ItemKey] = this;

    /// <summary>For the routes that act beyond one run (experiments, tokens, new runs): a worker's token may not.</summary>
    public static void RefuseWorkers(HttpContext http, FormattableString message)
    {
        if (Of(http).Kind is CallerKind.Worker or CallerKind.Unrecognised)
            throw new PortalException(PortalError.Forbidden, message);
    }
}

/// <summary>
/// Works out who calls /api/v1 from the bearer token (docs/tracking.md, "Who may write") and enforces
/// the two rules that hold for every route: a worker's token writes only under its own run, and with
/// RequireApiToken a call without a token is refused.
/// </summary>
public sealed partial class ApiCallers(RequestDelegate next)
{
    public const string TokenPrefix = "mop_";
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(5);

    public async Task InvokeAsync(HttpContext http, IDbContextFactory<PortalDb> dbs, IOptions<PortalOptions> options)
    {
        var path = http.Request.Path.Value ?? "";
        // Kestrel resolves "." and ".." segments before routing, so ".../artifacts/../../x" would reach
        // another route; an API path that needed resolving is refused here, with a ProblemDetails.
        var raw = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "";
        if (raw.StartsWith("/api/", StringComparison.Ordinal) && DotSegment().IsMatch(raw.Split('?')[0]))
            throw PortalException.Invalid($"The request path holds a '.' or '..' segment; paths in this API are never relative.", "path");
        if (!path.StartsWith("/api/v1/", StringComparison.Ordinal) || path == "/api/v1/openapi.json")
        {
            await next(http);
            return;
        }
        var caller = await IdentifyAsync(http, dbs);
        caller.Attach(http);
        if (caller.Kind == CallerKind.Anonymous && options.Value.RequireApiToken)
            throw new PortalException(PortalError.Unauthorized, $"This portal requires an API token: send 'Authorization: Bearer mop_...'. Create one on the Tokens page.");
        if (caller.Kind == CallerKind.Worker && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)
            && OwnRun().Match(path) is var m && (!m.Success || m.Groups[1].Value != caller.RunId.ToString()))
            throw new PortalException(PortalError.Forbidden, $"A worker's token writes only its own run (run {caller.RunId}).");
        await next(http);
    }

    private static async Task<Caller> IdentifyAsync(HttpContext http, IDbContextFactory<PortalDb> dbs)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.Length == 0) return Caller.Anonymous;
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            throw new PortalException(PortalError.Unauthorized, $"The Authorization header must be 'Bearer <token>'.");
        var token = header[7..].Trim();
        var hash = Hash(token);
        await using var db = await dbs.CreateDbContextAsync(http.RequestAborted);
        if (token.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            var now = DateTime.UtcNow;
            var found = await db.ApiTokens.FirstOrDefaultAsync(t => t.TokenHash == hash, http.RequestAborted);
            if (found is null || found.RevokedAt is not null || found.ExpiresAt <= now)
                throw found is null ? new PortalException(PortalError.Unauthorized, $"The API token is not known.")
                    : found.RevokedAt is not null ? new PortalException(PortalError.Unauthorized, $"The API token was revoked.")
                    : new PortalException(PortalError.Unauthorized, $"The API token has expired.");
            // Last use is kept to the nearest few minutes: a write per request would cost the ingest path.
            if (found.LastUsedAt is null || now - found.LastUsedAt > TouchEvery)
            {
                found.LastUsedAt = now;
                await db.SaveChangesAsync(http.RequestAborted);
            }
            return new Caller(CallerKind.User, found.Owner, TokenId: found.Id);
        }
        var runId = await db.Runs.Where(r => r.WorkerTokenHash == hash).Select(r => (int?)r.Id).FirstOrDefaultAsync(http.RequestAborted);
        return runId is null ? new Caller(CallerKind.Unrecognised) : new Caller(CallerKind.Worker, RunId: runId);
    }

    public static string Hash(string token) => RunLifecycle.HashToken(token);

    public static string NewToken() => TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex(@"(^|/)(\.|%2e){1,2}(/|$)", RegexOptions.IgnoreCase)]
    private static partial Regex DotSegment();

    [GeneratedRegex(@"^/api/v1/runs/(\d+)(/|$)")]
    private static partial Regex OwnRun();
}

/// <summary>Who may read or write one run, for the tracking routes.</summary>
public static class RunAccess
{
    public static async Task<Run> ForReadAsync(HttpContext http, PortalDb db, int runId, CancellationToken ct)
    {
        var caller = Caller.Of(http);
        Refuse(caller);
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId && r.DeletedAt == null, ct) ?? throw PortalException.NotFound($"Run {runId}");
        return run;
    }

    public static async Task<Run> ForWriteAsync(HttpContext http, PortalDb db, int runId, CancellationToken ct)
    {
        var caller = Caller.Of(http);
        Refuse(caller);
        if (caller.Kind == CallerKind.Worker && caller.RunId != runId)
            throw new PortalException(PortalError.Forbidden, $"A worker's token writes only its own run (run {caller.RunId}).");
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId && r.DeletedAt == null, ct) ?? throw PortalException.NotFound($"Run {runId}");
        if (run.Kind == RunKind.Training && caller.Kind == CallerKind.Worker && run.Status != RunStatus.Running)
            throw new PortalException(PortalError.Conflict, $"Run {runId} is {run.Status}, not Running.");
        return run;
    }

    private static void Refuse(Caller caller)
    {
        if (caller.Kind == CallerKind.Unrecognised)
            throw new PortalException(PortalError.Unauthorized, $"The bearer token is neither an API token nor the token of a running attempt.");
    }
}
