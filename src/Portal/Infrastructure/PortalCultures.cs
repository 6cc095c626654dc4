using System.Globalization;
using Microsoft.AspNetCore.Localization;

namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// The languages the portal speaks. A request's culture comes from the culture cookie the UI's
/// language switch sets, then Accept-Language, then English; the API's ProblemDetails and the
/// Blazor circuit both use it.
/// </summary>
public static class PortalCultures
{
    public const string English = "en";
    public const string Chinese = "zh-CN";
    public static readonly string[] Supported = [English, Chinese];

    /// <summary>The cookie the language switch writes (ASP.NET Core's own format: c=..|uic=..).</summary>
    public static string CookieName => CookieRequestCultureProvider.DefaultCookieName;

    public static bool IsSupported(string? culture) =>
        culture is not null && Supported.Contains(culture, StringComparer.OrdinalIgnoreCase);

    public static IServiceCollection AddPortalCultures(this IServiceCollection services)
    {
        services.AddLocalization();
        services.Configure<RequestLocalizationOptions>(o =>
        {
            o.SetDefaultCulture(English).AddSupportedCultures(Supported).AddSupportedUICultures(Supported);
            o.FallBackToParentCultures = true;
            o.FallBackToParentUICultures = true;
            // Query string first is only for links and tests (?culture=zh-CN); the cookie is what persists.
            o.RequestCultureProviders =
            [
                new QueryStringRequestCultureProvider(),
                new CookieRequestCultureProvider(),
                new AcceptLanguageHeaderRequestCultureProvider(),
            ];
        });
        return services;
    }

    /// <summary>The culture of this request (ProblemDetails are written outside the handler's flow).</summary>
    public static CultureInfo Of(HttpContext http) =>
        http.Features.Get<IRequestCultureFeature>()?.RequestCulture.UICulture ?? CultureInfo.GetCultureInfo(English);
}
