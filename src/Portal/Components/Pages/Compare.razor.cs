using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Components.Shared;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Components.Pages;

/// <summary>
/// Two to a hundred runs side by side: overlaid curves of one metric (each series downsampled on the server
/// by LTTB, so the browser never receives a raw history), parallel coordinates and a scatter of params against a
/// metric, and a table of params and latest metrics that by default shows only what differs.
/// The table and the two run-level charts need only the latest values (three queries); the curves are read
/// after the first render so the page shows at once whatever the series' lengths.
/// </summary>
public sealed partial class Compare : IDisposable
{
    public const int MinRuns = 2;
    public const int MaxRuns = 100;
    public const int MaxPointsPerCurve = 500;
    private const int DefaultParcoordsParams = 6;
    private static readonly string[] PreferredMetrics = ["val_accuracy", "test_accuracy", "accuracy", "val_loss", "loss", "train_loss"];

    [Inject] private IDbContextFactory<PortalDb> DbFactory { get; set; } = default!;
    [Inject] private ILogger<Compare> Log { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "runs")] public string? RunsParam { get; set; }

    public sealed record CompareRun(int Id, string Name, RunStatus Status, IReadOnlyDictionary<string, string> Params, IReadOnlyDictionary<string, double> Metrics)
    {
        public string Label => $"{Name} (#{Id})";
    }

    /// <summary>A row of the table: a param or a metric, its value per run (null when the run has none).</summary>
    public sealed record CompareRow(RunColumn Column, IReadOnlyList<string?> Values, bool Differs);

    private string? loadedParam = "\0";
    private string? problem;
    private List<int> missing = [];
    private List<CompareRun> runs = [];
    private List<string> metricKeys = [];
    private List<string> paramKeys = [];
    private HashSet<string> numericParams = [];
    private List<CompareRow> tableRows = [];
    private bool onlyDifferences = true;
    private double loadMs;

    private string? curveMetric;
    private IReadOnlyList<PlotlyTrace> curveTraces = [];
    private PlotlyLayout curveLayout = new();
    private bool curvesLoading;
    private int curvesLoaded;
    private long curvePointsRead;
    private double curvesMs;
    private CancellationTokenSource? curveLoad;

    private IEnumerable<string> parcoordsParams = [];
    private string? parcoordsMetric;
    private IReadOnlyList<PlotlyTrace> parcoordsTraces = [];
    private PlotlyLayout parcoordsLayout = new();
    private int parcoordsLeftOut;

    private string? scatterParam;
    private string? scatterMetric;
    private IReadOnlyList<PlotlyTrace> scatterTraces = [];
    private PlotlyLayout scatterLayout = new();

    private bool curvesPending;

    private IEnumerable<CompareRow> VisibleRows => onlyDifferences ? tableRows.Where(r => r.Differs) : tableRows;

    protected override async Task OnParametersSetAsync()
    {
        if (RunsParam == loadedParam) return;
        loadedParam = RunsParam;
        var watch = Stopwatch.StartNew();
        problem = null;
        runs = [];
        missing = [];

        var ids = new List<int>();
        foreach (var part in (RunsParam ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                problem = $"'{part}' is not a run id. A comparison link looks like compare?runs=12,15,19.";
                return;
            }
            if (!ids.Contains(id)) ids.Add(id);
        }
        if (ids.Count > MaxRuns)
        {
            problem = $"Compare takes at most {MaxRuns} runs; this link names {ids.Count}. Select fewer runs on the Experiments page.";
            return;
        }

        await using (var db = await DbFactory.CreateDbContextAsync())
        {
            var basics = await db.Runs.AsNoTracking().Where(r => ids.Contains(r.Id) && r.DeletedAt == null)
                .Select(r => new { r.Id, r.Name, r.Status }).ToDictionaryAsync(r => r.Id);
            var found = ids.Where(basics.ContainsKey).ToList();
            missing = ids.Where(id => !basics.ContainsKey(id)).ToList();
            var parameters = await TrackingStore.ParamsAsync(db, found, CancellationToken.None);
            var latest = await TrackingStore.LatestAsync(db, found, CancellationToken.None);
            runs = found.Select(id => new CompareRun(id, basics[id].Name, basics[id].Status, parameters[id],
                latest[id].ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal))).ToList();
        }
        if (runs.Count < MinRuns)
        {
            problem = $"Compare needs {MinRuns} to {MaxRuns} runs; {(runs.Count == 0 ? "none" : "only one")} of those named was found. Select runs on the Experiments page.";
            return;
        }

        metricKeys = runs.SelectMany(r => r.Metrics.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        paramKeys = runs.SelectMany(r => r.Params.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        numericParams = paramKeys.Where(k => runs.All(r => !r.Params.TryGetValue(k, out var v) || TryNumber(v, out _))).ToHashSet();
        var common = metricKeys.Where(k => runs.All(r => r.Metrics.ContainsKey(k))).ToList();
        curveMetric = PreferredMetrics.FirstOrDefault(common.Contains) ?? common.FirstOrDefault() ?? metricKeys.FirstOrDefault();
        parcoordsMetric = scatterMetric = curveMetric;
        var varying = paramKeys.Where(k => runs.Select(r => r.Params.GetValueOrDefault(k)).Distinct().Count() > 1).ToList();
        parcoordsParams = varying.Where(numericParams.Contains).Concat(varying.Where(k => !numericParams.Contains(k))).Take(DefaultParcoordsParams).ToList();
        scatterParam = varying.FirstOrDefault(numericParams.Contains) ?? varying.FirstOrDefault() ?? paramKeys.FirstOrDefault();

        BuildTable();
        BuildParcoords();
        BuildScatter();
        curveTraces = [];
        curvePointsRead = 0;
        curvesPending = curveMetric is not null;
        loadMs = watch.Elapsed.TotalMilliseconds;
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        // The curves are the slow part (a range scan per run): read them once the rest is on screen.
        if (curvesPending)
        {
            curvesPending = false;
            await LoadCurvesAsync();
        }
    }

    private async Task OnCurveMetricChanged(string? key)
    {
        curveMetric = key;
        await LoadCurvesAsync();
    }

    private async Task LoadCurvesAsync()
    {
        curveLoad?.Cancel();
        curveLoad?.Dispose();
        var cts = curveLoad = new CancellationTokenSource();
        var ct = cts.Token;
        var key = curveMetric;
        if (key is null) return;
        curvesLoading = true;
        curvesLoaded = 0;
        long read = 0;
        var watch = Stopwatch.StartNew();
        StateHasChanged();
        try
        {
            var traces = new List<PlotlyTrace>(runs.Count);
            await using var db = await DbFactory.CreateDbContextAsync(ct);
            foreach (var run in runs)
            {
                var points = await TrackingStore.SeriesAsync(db, run.Id, key, ct) ?? [];
                read += points.Count;
                var kept = Downsampling.Lttb(points, MaxPointsPerCurve, p => p.Step, p => p.Value);
                traces.Add(new PlotlyTrace
                {
                    Name = run.Label,
                    Mode = kept.Count == 1 ? "markers" : "lines",
                    X = kept.Select(p => (double)p.Step).ToArray(),
                    Y = kept.Select(p => p.Value).ToArray(),
                    Line = new PlotlyLine(Width: runs.Count > 20 ? 1 : 1.6),
                    HoverTemplate = $"{Escape(run.Label)}<br>step %{{x}}: %{{y}}<extra></extra>",
                });
                curvesLoaded++;
            }
            ct.ThrowIfCancellationRequested();
            curveTraces = traces;
            curvePointsRead = read;
            curveLayout = new PlotlyLayout
            {
                XAxis = new PlotlyAxis { Title = new PlotlyTitle("step"), AutoMargin = true },
                YAxis = new PlotlyAxis { Title = new PlotlyTitle(key), AutoMargin = true },
                ShowLegend = runs.Count <= 20,
                Legend = new PlotlyLegend("v"),
                Margin = new PlotlyMargin(T: 16),
            };
            curvesMs = watch.Elapsed.TotalMilliseconds;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "Reading the {Metric} curves of runs {Runs} failed", key, loadedParam);
            problem = "The curves could not be read; the log has the details.";
        }
        finally
        {
            if (ReferenceEquals(curveLoad, cts)) curvesLoading = false;
        }
        StateHasChanged();
    }

    private void BuildTable()
    {
        var rows = new List<CompareRow>();
        foreach (var key in paramKeys)
        {
            var values = runs.Select(r => r.Params.TryGetValue(key, out var v) ? v : null).ToList();
            rows.Add(new CompareRow(new RunColumn(RunColumn.Params, key), values, values.Distinct().Count() > 1));
        }
        foreach (var key in metricKeys)
        {
            var values = runs.Select(r => r.Metrics.TryGetValue(key, out var v) ? (double?)v : null).ToList();
            rows.Add(new CompareRow(new RunColumn(RunColumn.Metrics, key), values.Select(v => v is null ? null : Ui.Number(v, "0.#####")).ToList(),
                values.Distinct().Count() > 1));
        }
        tableRows = rows;
    }

    private void OnParcoordsChanged()
    {
        BuildParcoords();
    }

    private void BuildParcoords()
    {
        parcoordsTraces = [];
        var metric = parcoordsMetric;
        var chosen = parcoordsParams.Where(paramKeys.Contains).ToList();
        if (metric is null || chosen.Count == 0)
        {
            parcoordsLeftOut = 0;
            return;
        }
        // One line per run that has every chosen value; text params become evenly spaced ticks.
        var complete = runs.Where(r => r.Metrics.ContainsKey(metric) && chosen.All(r.Params.ContainsKey)).ToList();
        parcoordsLeftOut = runs.Count - complete.Count;
        var dimensions = chosen.Select(key => Dimension(key, complete.Select(r => r.Params[key]).ToList())).ToList();
        dimensions.Add(new PlotlyDimension(metric, complete.Select(r => r.Metrics[metric]).ToList()));
        var colors = complete.Select(r => r.Metrics[metric]).ToList();
        parcoordsTraces =
        [
            new PlotlyTrace
            {
                Type = "parcoords",
                Dimensions = dimensions,
                Line = new PlotlyLine(Color: colors, ColorScale: "Viridis", ShowScale: true, ColorBar: new PlotlyColorBar(new PlotlyTitle(metric))),
            },
        ];
        parcoordsLayout = new PlotlyLayout { Margin = new PlotlyMargin(L: 64, R: 48, T: 56, B: 24) };
    }

    private PlotlyDimension Dimension(string key, IReadOnlyList<string> values)
    {
        if (numericParams.Contains(key))
        {
            return new PlotlyDimension(key, values.Select(v => TryNumber(v, out var n) ? n : double.NaN).ToList());
        }
        var categories = values.Distinct().Order(StringComparer.Ordinal).ToList();
        var index = categories.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (double)p.i, StringComparer.Ordinal);
        return new PlotlyDimension(key, values.Select(v => index[v]).ToList())
        {
            TickVals = categories.Select((_, i) => (double)i).ToList(),
            TickText = categories,
        };
    }

    private void BuildScatter()
    {
        scatterTraces = [];
        if (scatterParam is not { } param || scatterMetric is not { } metric) return;
        var points = runs.Where(r => r.Params.ContainsKey(param) && r.Metrics.ContainsKey(metric)).ToList();
        object x = numericParams.Contains(param)
            ? points.Select(r => TryNumber(r.Params[param], out var n) ? n : double.NaN).ToArray()
            : points.Select(r => r.Params[param]).ToArray();
        scatterTraces =
        [
            new PlotlyTrace
            {
                Mode = "markers",
                Name = metric,
                X = x,
                Y = points.Select(r => r.Metrics[metric]).ToArray(),
                Text = points.Select(r => r.Label).ToArray(),
                Marker = new PlotlyMarker("#1976d2", 10),
                HoverTemplate = $"%{{text}}<br>{Escape(param)} = %{{x}}<br>{Escape(metric)} = %{{y}}<extra></extra>",
            },
        ];
        scatterLayout = new PlotlyLayout
        {
            XAxis = new PlotlyAxis { Title = new PlotlyTitle(param), AutoMargin = true, Type = numericParams.Contains(param) ? null : "category" },
            YAxis = new PlotlyAxis { Title = new PlotlyTitle(metric), AutoMargin = true },
            Margin = new PlotlyMargin(T: 16),
        };
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>Hover templates are HTML-ish: a name must not open a tag.</summary>
    private static string Escape(string text) => text.Replace("<", "&lt;", StringComparison.Ordinal);

    public void Dispose()
    {
        curveLoad?.Cancel();
        curveLoad?.Dispose();
    }
}
