using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Identity;

/// <summary>
/// An open page re-reads its user every <see cref="AuthOptions.RevalidateSeconds"/>: a user who was
/// disabled, deleted or whose password changed (a new security stamp) loses their identity, and the
/// page sends them to sign in. Roles are not cached at all: <see cref="Access"/> reads them per action.
/// </summary>
public sealed class RevalidatingUserState(ILoggerFactory logger, IServiceScopeFactory scopes, IOptions<AuthOptions> options)
    : RevalidatingServerAuthenticationStateProvider(logger)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(Math.Clamp(options.Value.RevalidateSeconds, 1, 3600));

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.GetUserAsync(state.User);
        if (user is null || user.DisabledAt is not null) return false;
        if (!users.SupportsUserSecurityStamp) return true;
        var stamp = state.User.FindFirstValue(users.Options.ClaimsIdentity.SecurityStampClaimType);
        return stamp == await users.GetSecurityStampAsync(user);
    }
}

/// <summary>Keeps <see cref="CircuitPrincipal"/> equal to the circuit's authentication state, for <see cref="CurrentUser"/>.</summary>
public sealed class PrincipalCircuitHandler(AuthenticationStateProvider states, CircuitPrincipal principal) : CircuitHandler, IDisposable
{
    public override async Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken ct)
    {
        principal.User = (await states.GetAuthenticationStateAsync()).User;
        states.AuthenticationStateChanged += Changed;
    }

    private void Changed(Task<AuthenticationState> state) => _ = Update(state);

    private async Task Update(Task<AuthenticationState> state)
    {
        try
        {
            principal.User = (await state).User;
        }
        catch (Exception)
        {
            principal.User = new ClaimsPrincipal(new ClaimsIdentity());
        }
    }

    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        context =>
        {
            principal.Flow();
            return next(context);
        };

    public void Dispose() => states.AuthenticationStateChanged -= Changed;
}
