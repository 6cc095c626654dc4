using MudBlazor;

namespace ModelOps.Portal.Shell;

/// <summary>
/// The portal's MudBlazor theme. Fonts are the system's own (no web fonts: many of our users run
/// without internet), with CJK faces listed so Chinese renders in whatever the desktop has.
/// </summary>
public static class PortalTheme
{
    public static readonly string[] FontStack =
    [
        "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial",
        "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "sans-serif",
    ];

    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#3f51b5",
            Secondary = "#00897b",
            AppbarBackground = "#283593",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#8c9eff",
            Secondary = "#4db6ac",
            AppbarBackground = "#1a1a27",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = FontStack },
        },
    };
}
