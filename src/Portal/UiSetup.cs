using ModelOps.Portal.Components;
using Radzen;

namespace ModelOps.Portal;

/// <summary>The Blazor UI's contribution to the host: interactive server components, Radzen and static assets.</summary>
public static class UiSetup
{
    public static IServiceCollection AddPortalUi(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddRadzenComponents();
        return services;
    }

    public static WebApplication MapPortalUi(this WebApplication app)
    {
        // Serves wwwroot (our css/js and the npm-restored plotly bundle) and _content/Radzen.Blazor/*.
        app.MapStaticAssets();
        app.UseAntiforgery();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
