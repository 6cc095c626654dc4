namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// Who is acting, for the audit trail. Sign-in is not built yet (see docs/architecture.md): the name
/// comes from an authenticated principal when there is one, else the owner of the API token, else the X-ModelOps-User header an API
/// client may send, else ModelOps:DefaultUser, else the account the portal runs under.
/// </summary>
public sealed class CurrentUser(IHttpContextAccessor http, IConfiguration configuration)
{
    public const string HeaderName = "X-ModelOps-User";

    public string Name => Resolve();

    private string Resolve()
    {
        var context = http.HttpContext;
        var principal = context?.User?.Identity;
        if (principal is { IsAuthenticated: true, Name: { Length: > 0 } name })
            return name;
        if (Tracking.Caller.Of(context) is { Kind: Tracking.CallerKind.User, User: { Length: > 0 } owner })
            return owner;
        var header = context?.Request.Headers[HeaderName].ToString();
        if (!string.IsNullOrWhiteSpace(header) && header.Length <= 64 && header.All(c => !char.IsControl(c)))
            return header.Trim();
        return configuration["ModelOps:DefaultUser"] is { Length: > 0 } configured ? configured : Environment.UserName;
    }
}
