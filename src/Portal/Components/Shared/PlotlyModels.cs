using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelOps.Portal.Components.Shared;

// The subset of plotly.js's figure schema the portal uses. Property names serialise lower-cased
// (plotly's own spelling: texttemplate, showscale, hovertemplate); nulls are left out.

/// <summary>One plotly trace. <see cref="X"/>, <see cref="Y"/> and <see cref="Z"/> take any list (numbers or strings; Z a list of rows).</summary>
public sealed record PlotlyTrace
{
    public string Type { get; init; } = "scatter";
    public string? Mode { get; init; }
    public string? Name { get; init; }
    public object? X { get; init; }
    public object? Y { get; init; }
    public object? Z { get; init; }
    /// <summary>The x axis this trace is drawn against: "x" (default) or "x2".</summary>
    [JsonPropertyName("xaxis")] public string? XAxis { get; init; }
    public PlotlyLine? Line { get; init; }
    public PlotlyMarker? Marker { get; init; }
    public string? TextTemplate { get; init; }
    public string? HoverTemplate { get; init; }
    public object? ColorScale { get; init; }
    public bool? ShowScale { get; init; }
    public double? Opacity { get; init; }
    /// <summary>Per-point text (a list of strings), shown on hover as %{text}.</summary>
    public object? Text { get; init; }
    /// <summary>The axes of a "parcoords" trace.</summary>
    public IReadOnlyList<PlotlyDimension>? Dimensions { get; init; }
}

/// <summary>One axis of a parallel-coordinates trace; text values are drawn at <see cref="TickVals"/> with <see cref="TickText"/>.</summary>
public sealed record PlotlyDimension(string Label, IReadOnlyList<double> Values)
{
    public IReadOnlyList<double>? TickVals { get; init; }
    public IReadOnlyList<string>? TickText { get; init; }
}

/// <summary>A trace's line. <see cref="Color"/> is a CSS colour, or (parcoords) a list of numbers mapped through <see cref="ColorScale"/>.</summary>
public sealed record PlotlyLine(object? Color = null, double? Width = null, string? Dash = null, string? Shape = null,
    object? ColorScale = null, bool? ShowScale = null, PlotlyColorBar? ColorBar = null);

public sealed record PlotlyColorBar(PlotlyTitle? Title = null);

public sealed record PlotlyMarker(string? Color = null, double? Size = null);

public sealed record PlotlyTitle(string Text);

public sealed record PlotlyAxis
{
    public PlotlyTitle? Title { get; init; }
    public string? Type { get; init; }
    /// <summary>true, false or "reversed".</summary>
    public object? AutoRange { get; init; }
    public double[]? Range { get; init; }
    public bool? AutoMargin { get; init; }
    public string? Side { get; init; }
    public string? Overlaying { get; init; }
    public bool? ShowGrid { get; init; }
    public bool? ZeroLine { get; init; }
    public string? TickFormat { get; init; }
    public double? DTick { get; init; }
    public int? NTicks { get; init; }
    public bool? ShowTickLabels { get; init; }
    public double? TickAngle { get; init; }
    public string? Constrain { get; init; }
}

public sealed record PlotlyMargin(int L = 56, int R = 16, int T = 32, int B = 48);

public sealed record PlotlyLegend(string Orientation = "h", double? X = null, double? Y = null);

public sealed record PlotlyLayout
{
    public PlotlyTitle? Title { get; init; }
    [JsonPropertyName("xaxis")] public PlotlyAxis? XAxis { get; init; }
    [JsonPropertyName("xaxis2")] public PlotlyAxis? XAxis2 { get; init; }
    [JsonPropertyName("yaxis")] public PlotlyAxis? YAxis { get; init; }
    public PlotlyMargin? Margin { get; init; } = new();
    public int? Height { get; init; }
    public bool? ShowLegend { get; init; }
    public PlotlyLegend? Legend { get; init; }
    [JsonPropertyName("paper_bgcolor")] public string? PaperBackground { get; init; } = "rgba(0,0,0,0)";
    [JsonPropertyName("plot_bgcolor")] public string? PlotBackground { get; init; } = "rgba(0,0,0,0)";
    public string? UiRevision { get; init; } = "keep";
}

internal static class PlotlyJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = new LowerCaseNamingPolicy(),
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // A diverging loss is NaN or infinity; plotly shows a gap for it rather than the page failing.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private sealed class LowerCaseNamingPolicy : JsonNamingPolicy
    {
        public override string ConvertName(string name) => name.ToLowerInvariant();
    }
}
