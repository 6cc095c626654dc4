using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;
using MudBlazor.Services;

namespace ModelOps.Ui.Tests;

/// <summary>
/// A bunit context over the portal's own services (AddPortal) and a real, migrated SQLite file in
/// a temp folder: pages render from real rows written through the real services. Hosted services
/// (scheduler, watchdog) are registered but never started, so nothing runs behind a test's back.
/// JS interop is loose: MudBlazor's and Plotly.Blazor's calls return defaults.
/// </summary>
public abstract class PortalUiTest : BunitContext, IAsyncLifetime
{
    private readonly TempFolder data = new();

    protected PortalUiTest()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ModelOps:DataDirectory"] = data.Path,
            ["ModelOps:SeedDemoData"] = "false",
            ["ModelOps:PauseDispatch"] = "true",
        }).Build();
        Services.AddSingleton<IConfiguration>(configuration);
        Services.AddLogging();
        Services.AddPortal(configuration);
        Services.AddMudServices();
        authorization = AddAuthorization();
        UseCulture(PortalCultures.English);
    }

    private readonly Bunit.TestDoubles.BunitAuthorizationContext authorization;

    /// <summary>The signed-in user pages render for: a real user in the store, a site Admin unless a test signs in as another.</summary>
    protected int UserId { get; private set; }

    /// <summary>Renders from here on as <paramref name="userName"/> (created on first use) with the role in the team.</summary>
    protected async Task SignInAsync(string userName, ModelOps.Portal.Identity.TeamRole? role = null, int teamId = ModelOps.Portal.Identity.Team.DefaultId, bool siteAdmin = false)
    {
        UserId = await InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<PortalDb>();
            var people = sp.GetRequiredService<ModelOps.Portal.Identity.People>();
            var id = await db.Users.Where(u => u.UserName == userName).Select(u => (int?)u.Id).FirstOrDefaultAsync()
                     ?? (await people.CreateUserAsync(userName, null, userName + "-test-password", siteAdmin, CancellationToken.None, actor: "test")).Id;
            if (role is { } r) await people.SetMemberAsync(teamId, userName, r, CancellationToken.None, actor: "test");
            return id;
        });
        authorization.SetAuthorized(userName);
        authorization.SetClaims(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, UserId.ToString()));
    }

    protected string DataDirectory => data.Path;

    /// <summary>Renders in this culture from here on (the test's flow, as a circuit would).</summary>
    protected static void UseCulture(string name)
    {
        var culture = CultureInfo.GetCultureInfo(name);
        CultureInfo.CurrentCulture = culture;
        CultureInfo.CurrentUICulture = culture;
    }

    /// <summary>A query or change against the same SQLite file the pages read.</summary>
    protected T Db<T>(Func<PortalDb, T> query)
    {
        using var scope = Services.CreateScope();
        return query(scope.ServiceProvider.GetRequiredService<PortalDb>());
    }

    protected async Task<T> InScopeAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        using var scope = Services.CreateScope();
        return await action(scope.ServiceProvider);
    }

    public virtual Task InitializeAsync()
    {
        Directory.CreateDirectory(data.Path);
        using var scope = Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        db.Database.Migrate();
        db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;");
        return SignInAsync("admin", ModelOps.Portal.Identity.TeamRole.Admin, siteAdmin: true);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        // MudBlazor's KeyInterceptorService is only async-disposable.
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        data.Dispose();
    }
}
