using Microsoft.AspNetCore.Localization;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Jobs;
using ModelOps.Portal.Shell;
using MudBlazor.Services;

namespace ModelOps.Portal;

/// <summary>The Blazor UI's contribution to the host: interactive server components, MudBlazor, the language switch and static assets.</summary>
public static class UiSetup
{
    public static IServiceCollection AddPortalUi(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        return services;
    }

    public static WebApplication MapPortalUi(this WebApplication app)
    {
        // Serves wwwroot and the packages' _content/* (MudBlazor, Plotly.Blazor's plotly.js).
        app.MapStaticAssets().AllowAnonymous();
        app.MapJobsDashboard();
        app.UseAntiforgery();
        app.MapGet("/ui/culture", SetCulture).ExcludeFromDescription().AllowAnonymous();
        app.MapGet("/ui/team", SetTeam).ExcludeFromDescription();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>
    /// The language switch: remembers the choice in the culture cookie and reloads the page it came
    /// from, so the new circuit starts in that culture. Only local addresses are followed.
    /// </summary>
    private static IResult SetCulture(HttpContext http, string? culture, string? redirect)
    {
        if (!PortalCultures.IsSupported(culture))
            throw PortalException.Invalid($"The language must be one of {string.Join(", ", PortalCultures.Supported)}.", "culture");
        var chosen = PortalCultures.Supported.First(c => string.Equals(c, culture, StringComparison.OrdinalIgnoreCase));
        http.Response.Cookies.Append(PortalCultures.CookieName,
            CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(chosen)),
            new CookieOptions { Path = "/", MaxAge = TimeSpan.FromDays(365), IsEssential = true, SameSite = SameSiteMode.Lax, HttpOnly = false });
        return Results.LocalRedirect(IsLocal(redirect) ? redirect! : "/");
    }

    /// <summary>The app bar's team switch: remembers the team in a cookie and reloads the page, whose new circuit then works in it.</summary>
    private static async Task<IResult> SetTeam(HttpContext http, int id, string? redirect, Identity.Access access)
    {
        // Only a team the caller is in; another answers 404 as if it did not exist.
        await access.RequireAsync(id, Identity.TeamRole.Viewer, $"Team {id}");
        http.Response.Cookies.Append(Identity.PortalClaims.TeamCookie, id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            new CookieOptions { Path = "/", MaxAge = TimeSpan.FromDays(365), IsEssential = true, SameSite = SameSiteMode.Lax, HttpOnly = true, Secure = http.Request.IsHttps });
        return Results.LocalRedirect(IsLocal(redirect) ? redirect! : "/");
    }

    internal static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));
}
