using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Tracking;

public enum CallerKind
{
    /// <summary>No token: the sign-in cookie, or nobody (refused by the authorization policy).</summary>
    Anonymous,
    /// <summary>An API token: a personal one acts as its user, a service one with its role in its team.</summary>
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

    public void Attach(HttpContext http) => http.Items[ItemKey] = this;

    /// <summary>For the routes that act beyond one run (experiments, tokens, new runs): a worker's token may not.</summary>
    public static void RefuseWorkers(HttpContext http, FormattableString message)
    {
        if (Of(http).Kind is CallerKind.Worker or CallerKind.Unrecognised)
            throw new PortalException(PortalError.Forbidden, message);
    }
}

/// <summary>
/// The two rules that hold for every /api/v1 route, after authentication (docs/identity.md): a path
/// with a "." or ".." segment is refused, and a worker's token writes only under its own run.
/// Who the caller is comes from <see cref="Identity.TokenAuthentication"/> or the sign-in cookie.
/// </summary>
public sealed partial class ApiCallers(RequestDelegate next)
{
    public const string TokenPrefix = "mop_";

    public async Task InvokeAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        // Kestrel resolves "." and ".." segments before routing, so ".../artifacts/../../x" would reach
        // another route; an API path that needed resolving is refused here, with a ProblemDetails.
        var raw = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "";
        if (raw.StartsWith("/api/", StringComparison.Ordinal) && DotSegment().IsMatch(raw.Split('?')[0]))
            throw PortalException.Invalid($"The request path holds a '.' or '..' segment; paths in this API are never relative.", "path");
        var caller = Caller.Of(http);
        if (caller.Kind == CallerKind.Worker && path.StartsWith("/api/v1/", StringComparison.Ordinal)
            && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)
            && OwnRun().Match(path) is var m && (!m.Success || m.Groups[1].Value != caller.RunId.ToString()))
            throw new PortalException(PortalError.Forbidden, $"A worker's token writes only its own run (run {caller.RunId}).");
        await next(http);
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
