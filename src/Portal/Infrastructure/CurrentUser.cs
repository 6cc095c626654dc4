using System.Security.Claims;
using ModelOps.Portal.Identity;

namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// Who is acting: always an authenticated principal (docs/identity.md), never a header a client sends.
/// On an API request it is the request's principal (the sign-in cookie, or a token); inside an
/// interactive circuit it is the circuit's authentication state, which is revalidated while the
/// circuit lives. Work the portal does on its own (a schedule's fire, the watchdog) runs without
/// one and names itself in what it writes; <see cref="Name"/> is then "system".
/// </summary>
public sealed class CurrentUser(IHttpContextAccessor http, CircuitPrincipal circuit, IServiceProvider services)
{
    public const string System = "system";

    public ClaimsPrincipal? Principal =>
        circuit.User is { Identity.IsAuthenticated: true } inCircuit ? inCircuit
        : http.HttpContext?.User is { Identity.IsAuthenticated: true } user ? user
        : StateNow();

    /// <summary>
    /// The authentication state when it is known already (a component test's provider sets it up front);
    /// on an API request the server's provider has none and says so by throwing.
    /// </summary>
    private ClaimsPrincipal? StateNow()
    {
        try
        {
            return services.GetService<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider>()?.GetAuthenticationStateAsync() is
                { IsCompletedSuccessfully: true } state && state.Result.User is { Identity.IsAuthenticated: true } user ? user : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    public string Name => Principal?.Identity?.Name is { Length: > 0 } name ? name : System;

    /// <summary>The signed-in person, or the owner of a personal token; null for a service or worker token.</summary>
    public int? UserId => int.TryParse(Principal?.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null;
}

/// <summary>
/// The principal of the interactive circuit, kept current by <see cref="PrincipalCircuitHandler"/>. Pages
/// often open a scope of their own for a query or an action; those scopes are not the circuit's, so the
/// circuit's principal also travels with each inbound circuit activity (an event, a render, a JS call)
/// on an async-local, as the Blazor docs advise for services in other scopes.
/// </summary>
public sealed class CircuitPrincipal
{
    private static readonly AsyncLocal<CircuitPrincipal?> Ambient = new();
    private ClaimsPrincipal? own;
    private string? team;

    public ClaimsPrincipal? User
    {
        get => own ?? Ambient.Value?.own;
        set => own = value;
    }

    /// <summary>
    /// The team the app bar's switch chose (its cookie, read while the page was rendered on the server,
    /// since a circuit has no request to read it from); null: none chosen.
    /// </summary>
    public string? Team
    {
        get => team ?? Ambient.Value?.team;
        set => team = value;
    }

    /// <summary>For the circuit's inbound activities (set by <see cref="PrincipalCircuitHandler"/>).</summary>
    internal void Flow() => Ambient.Value = this;
}
