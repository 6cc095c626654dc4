using Plotly.Blazor;
using Plotly.Blazor.Traces;
using ModelOps.Portal.Shell;

namespace ModelOps.Portal.Runs;

/// <summary>
/// One metric's curve on a run page: a plotly trace fed first from the store (downsampled) and then point
/// by point as the run logs. Steps already shown are skipped, so an event and the store's catch-up can both
/// deliver a point without drawing it twice.
/// </summary>
public sealed class LiveSeries(string key, string chart, int traceIndex, Scatter trace)
{
    private readonly HashSet<long> steps = [];

    public string Key { get; } = key;
    /// <summary>Which chart of the page draws it.</summary>
    public string Chart { get; } = chart;
    public int TraceIndex { get; } = traceIndex;
    public Scatter Trace { get; } = trace;
    /// <summary>The highest step shown: the store is asked for the points after it.</summary>
    public long? LastStep { get; private set; }
    public int Count => Trace.X.Count;

    /// <summary>Adds a point to the trace before it is drawn (or when the chart could not take it).</summary>
    public bool Seed(long step, double value)
    {
        if (!Accept(step)) return false;
        Trace.X.Add((double)step);
        Trace.Y.Add(value);
        return true;
    }

    internal bool Accept(long step)
    {
        if (!steps.Add(step)) return false;
        LastStep = LastStep is { } last ? Math.Max(last, step) : step;
        return true;
    }

    public static Scatter NewTrace(string name, string colour, bool markers, double width = 2, string? xAxis = null, decimal? opacity = null, string? hover = null) => new()
    {
        Name = name,
        Mode = markers ? Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines | Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers : Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines,
        X = new List<object>(),
        Y = new List<object>(),
        Line = new Plotly.Blazor.Traces.ScatterLib.Line { Color = colour, Width = (decimal)width },
        XAxis = xAxis,
        Opacity = opacity,
        HoverTemplate = hover,
    };
}

/// <summary>Appends live points to the charts of a page: one extendTraces call per chart.</summary>
public static class LiveCurves
{
    /// <summary>
    /// Adds the points whose step is new to their series and to the chart in the browser. A chart not drawn
    /// yet cannot be extended; its trace gets the points instead and draws them when it is first plotted.
    /// Returns how many points were new.
    /// </summary>
    public static async Task<int> AppendAsync(IReadOnlyDictionary<string, LiveSeries> series, IEnumerable<MetricPointView> points, Func<string, PortalChart?> chartOf)
    {
        var added = new Dictionary<LiveSeries, (List<double> X, List<double> Y)>();
        foreach (var p in points)
        {
            if (!series.TryGetValue(p.Key, out var s) || !s.Accept(p.Step)) continue;
            if (!added.TryGetValue(s, out var lists)) added[s] = lists = ([], []);
            lists.X.Add(p.Step);
            lists.Y.Add(p.Value);
        }
        var count = 0;
        foreach (var group in added.GroupBy(a => a.Key.Chart))
        {
            var items = group.ToList();
            var before = items.Select(i => i.Key.Count).ToList();
            if (chartOf(group.Key) is { } chart)
                await chart.ExtendAsync(
                    items.Select(i => i.Key.TraceIndex).ToList(),
                    items.Select(i => (IReadOnlyList<double>)i.Value.X).ToList(),
                    items.Select(i => (IReadOnlyList<double>)i.Value.Y).ToList());
            for (var i = 0; i < items.Count; i++)
            {
                var (s, (x, y)) = (items[i].Key, items[i].Value);
                count += x.Count;
                // Plotly.Blazor adds extended points to the trace's lists; when the chart was not ready it did not.
                if (s.Count > before[i]) continue;
                for (var j = 0; j < x.Count; j++)
                {
                    s.Trace.X.Add(x[j]);
                    s.Trace.Y.Add(y[j]);
                }
            }
        }
        return count;
    }
}
