using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Shell;

/// <summary>
/// What a browser chose: dark or light, and the language. Both live in cookies so the first,
/// server-rendered paint already has them (no flash of the wrong theme or language). The layout
/// cascades the current value; charts read it to follow the theme.
/// </summary>
public sealed record UiPreferences(bool Dark, string Culture)
{
    public const string ThemeCookie = "modelops.theme";
    public const string InitialCascade = "InitialUiPreferences";

    public static UiPreferences Default { get; } = new(false, PortalCultures.English);

    public static UiPreferences From(HttpContext? http) =>
        new(http?.Request.Cookies[ThemeCookie] == "dark", System.Globalization.CultureInfo.CurrentUICulture.Name);
}
