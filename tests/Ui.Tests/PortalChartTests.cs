using Plotly.Blazor;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Shell;

namespace ModelOps.Ui.Tests;

/// <summary>The shared chart: live points that arrive while plotly is still drawing the figure are not lost.</summary>
public sealed class PortalChartTests : PortalUiTest
{
    [Fact]
    public async Task Points_that_arrive_while_the_figure_is_drawn_are_redrawn_once_it_is()
    {
        // The figure is not drawn until the test says so (plotly.js still loading in a real browser).
        var drawn = JSInterop.SetupVoid("portalCharts.whenDrawn", _ => true);
        var trace = LiveSeries.NewTrace("val_accuracy", "#2e7d32", markers: true);
        var series = new Dictionary<string, LiveSeries> { ["val_accuracy"] = new("val_accuracy", "acc", 0, trace) };
        series["val_accuracy"].Seed(1, 0.5);
        var chart = Render<PortalChart>(p => p.Add(c => c.Data, new List<ITrace> { trace }).Add(c => c.TestId, "chart"));
        Assert.Equal("false", chart.Find("[data-testid=chart]").GetAttribute("data-chart-ready"));
        var plotlyCallsBefore = PlotlyCalls();

        // The first epoch's point reaches the page between the draw call and the drawn figure.
        await chart.InvokeAsync(() => LiveCurves.AppendAsync(series, [new MetricPointView("val_accuracy", 2, 0.75)], _ => chart.Instance));
        Assert.Equal([1.0, 2.0], trace.X.Select(Convert.ToDouble));
        Assert.Equal(plotlyCallsBefore, PlotlyCalls());

        drawn.SetVoidResult();
        chart.WaitForAssertion(() => Assert.Equal("true", chart.Find("[data-testid=chart]").GetAttribute("data-chart-ready")));
        // The redraw carries both points: the browser's figure matches the trace.
        Assert.Single(PlotlyCalls().Skip(plotlyCallsBefore.Count), c => c == "react");

        // Once drawn, a new point is an extension, not another redraw.
        var afterReady = PlotlyCalls().Count;
        await chart.InvokeAsync(() => LiveCurves.AppendAsync(series, [new MetricPointView("val_accuracy", 3, 0.875)], _ => chart.Instance));
        Assert.Equal(["extendTraces"], PlotlyCalls().Skip(afterReady));
        Assert.Equal(3, trace.X.Count);
    }

    [Fact]
    public void A_chart_with_nothing_missed_is_not_redrawn_when_drawn()
    {
        var drawn = JSInterop.SetupVoid("portalCharts.whenDrawn", _ => true);
        var trace = LiveSeries.NewTrace("loss", "#1976d2", markers: true);
        var chart = Render<PortalChart>(p => p.Add(c => c.Data, new List<ITrace> { trace }).Add(c => c.TestId, "chart"));
        drawn.SetVoidResult();
        chart.WaitForAssertion(() => Assert.Equal("true", chart.Find("[data-testid=chart]").GetAttribute("data-chart-ready")));
        Assert.DoesNotContain("react", PlotlyCalls());
    }

    /// <summary>The calls into Plotly.Blazor's interop module (newPlot, react, extendTraces, ...), in order.</summary>
    private List<string> PlotlyCalls() =>
        JSInterop.Invocations.Select(i => i.Identifier).Where(i => !i.Contains('.') && i != "import").ToList();
}
