using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;

namespace ModelOps.Portal.Shell;

/// <summary>Plotly layouts in the page's colours: transparent backgrounds, text and grid lines for light or dark.</summary>
public static class ChartTheme
{
    public static Layout Apply(Layout layout, bool dark)
    {
        var text = dark ? "#e0e0e0" : "#424242";
        var grid = dark ? "rgba(255,255,255,0.12)" : "rgba(0,0,0,0.10)";
        layout.PaperBgColor = "rgba(0,0,0,0)";
        layout.PlotBgColor = "rgba(0,0,0,0)";
        layout.Font = new Font { Color = text, Family = string.Join(", ", PortalTheme.FontStack) };
        layout.XAxis ??= [new XAxis()];
        layout.YAxis ??= [new YAxis()];
        foreach (var x in layout.XAxis)
        {
            x.GridColor = grid;
            x.ZeroLineColor = grid;
            x.LineColor = grid;
        }
        foreach (var y in layout.YAxis)
        {
            y.GridColor = grid;
            y.ZeroLineColor = grid;
            y.LineColor = grid;
        }
        layout.Legend ??= [new Legend()];
        foreach (var legend in layout.Legend)
            legend.Font = new Plotly.Blazor.LayoutLib.LegendLib.Font { Color = text };
        return layout;
    }
}
