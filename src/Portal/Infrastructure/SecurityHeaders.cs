namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// Headers every response carries (docs/identity.md, "Hardening"). The pages get a Content-Security-Policy
/// that allows only the portal's own scripts (Blazor, MudBlazor, plotly.js and portal.js are all served
/// from here; nothing is inline and nothing is evaluated), inline styles (MudBlazor and Plotly set
/// element styles), data: images (charts' exports) and the circuit's WebSocket to the same origin; no
/// framing, no plugins, forms post only here. Browser tests fail on any console error, so a page that
/// breaks the policy fails them. Hangfire's dashboard writes inline scripts of its own and keeps its
/// default; API responses are data, not documents, and need no policy.
/// </summary>
public static class SecurityHeaders
{
    public const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                var headers = http.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "same-origin";
                var path = http.Request.Path;
                if (!path.StartsWithSegments("/api") && !path.StartsWithSegments(Jobs.JobsDashboard.Path))
                {
                    headers.ContentSecurityPolicy = Policy;
                    headers.XFrameOptions = "DENY";
                }
                return Task.CompletedTask;
            });
            await next(http);
        });
        return app;
    }
}
