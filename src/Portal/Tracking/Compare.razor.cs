using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Shell;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using ParLine = Plotly.Blazor.Traces.ParCoordsLib.Line;
using ScatterLine = Plotly.Blazor.Traces.ScatterLib.Line;

namespace ModelOps.Portal.Tracking;

/// <summary>
/// Two to a hundred runs side by side: overlaid curves of one metric, parallel coordinates and a scatter of params
/// against a metric, and a table of params and latest metrics that by default shows only what differs.
///
/// <para>Speed: the table and the two run-level charts need only the latest values (three queries, in the prerender
/// too). The curves are one query for every run (<see cref="TrackingStore.SeriesOfRunsAsync"/>), each series cut to
/// <see cref="MaxPointsPerCurve"/> points by LTTB on the server, started as soon as the circuit is live. Each chart is
/// drawn once with all its traces (a new figure per choice, never a redraw per trace).</para>
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
    [Inject] private Identity.Access Access { get; set; } = default!;
    [Inject] private IStringLocalizer<TrackingText> L { get; set; } = default!;

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
    private IList<ITrace>? curveTraces;
    private Layout curveLayout = new();
    private bool curvesLoading;
    private long curvePointsRead;
    private int curvePointsDrawn;
    private double curvesMs;
    private int curveVersion;
    private CancellationTokenSource? curveLoad;

    private IReadOnlyCollection<string> parcoordsParams = [];
    private string? parcoordsMetric;
    private IList<ITrace> parcoordsTraces = [];
    private Layout parcoordsLayout = new();
    private int parcoordsLeftOut;
    private int parcoordsVersion;

    private string? scatterParam;
    private string? scatterMetric;
    private IList<ITrace> scatterTraces = [];
    private Layout scatterLayout = new();
    private int scatterPoints;
    private int scatterVersion;

    private IEnumerable<CompareRow> VisibleRows => onlyDifferences ? tableRows.Where(r => r.Differs) : tableRows;

    private bool CurvesReady => curveTraces is not null && !curvesLoading;

    protected override async Task OnParametersSetAsync()
    {
        if (RunsParam == loadedParam) return;
        loadedParam = RunsParam;
        var watch = Stopwatch.StartNew();
        problem = null;
        runs = [];
        missing = [];
        curveTraces = null;

        var ids = new List<int>();
        foreach (var part in (RunsParam ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                problem = L["'{0}' is not a run id. A comparison link looks like compare?runs=12,15,19.", part];
                return;
            }
            if (!ids.Contains(id)) ids.Add(id);
        }
        if (ids.Count > MaxRuns)
        {
            problem = L["Compare takes at most {0} runs; this link names {1}. Select fewer runs on the Experiments page.", MaxRuns, ids.Count];
            return;
        }

        // A run of a team the caller is not in is as missing as a deleted one (the API answers 404 for it too).
        var readable = await Access.TeamsAsync(Identity.TeamRole.Viewer);
        await using (var db = await DbFactory.CreateDbContextAsync())
        {
            var basics = await db.Runs.AsNoTracking().Where(r => ids.Contains(r.Id) && r.DeletedAt == null && readable.Contains(r.Experiment!.TeamId))
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
            problem = runs.Count == 0
                ? L["Compare needs {0} to {1} runs; none of those named was found. Select runs on the Experiments page.", MinRuns, MaxRuns]
                : L["Compare needs {0} to {1} runs; only one of those named was found. Select runs on the Experiments page.", MinRuns, MaxRuns];
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
        curvePointsRead = 0;
        loadMs = watch.Elapsed.TotalMilliseconds;

        // The curves are the slow part: read them as soon as the circuit is live, while the rest is drawn.
        // (The prerender has no charts to draw, so it does not read them.)
        if (RendererInfo.IsInteractive && curveMetric is not null) _ = LoadCurvesAsync();
    }

    private async Task OnCurveMetricChanged(string? key)
    {
        if (key == curveMetric) return;
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
        var watch = Stopwatch.StartNew();
        StateHasChanged();
        try
        {
            Dictionary<int, List<SeriesPoint>> series;
            await using (var db = await DbFactory.CreateDbContextAsync(ct))
                series = await TrackingStore.SeriesOfRunsAsync(db, runs.Select(r => r.Id).ToList(), key, ct);
            ct.ThrowIfCancellationRequested();
            long read = 0;
            var drawn = 0;
            var traces = new List<ITrace>(runs.Count);
            var width = runs.Count > 20 ? 1m : 1.6m;
            foreach (var run in runs)
            {
                var points = series.GetValueOrDefault(run.Id) ?? [];
                read += points.Count;
                var kept = Downsampling.Lttb(points, MaxPointsPerCurve, p => p.Step, p => p.Value);
                drawn += kept.Count;
                traces.Add(new Scatter
                {
                    Name = run.Label,
                    Mode = kept.Count == 1 ? Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers : Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines,
                    X = kept.Select(p => (object)p.Step).ToList(),
                    Y = kept.Select(p => (object)p.Value).ToList(),
                    Line = new ScatterLine { Width = width },
                    HoverTemplate = $"{Escape(run.Label)}<br>{Escape(L["step"])} %{{x}}: %{{y}}<extra></extra>",
                });
            }
            curveLayout = new Layout
            {
                XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = L["step"] }, AutoMargin = Plotly.Blazor.LayoutLib.XAxisLib.AutoMarginFlag.True }],
                YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = key }, AutoMargin = Plotly.Blazor.LayoutLib.YAxisLib.AutoMarginFlag.True }],
                ShowLegend = runs.Count <= 20,
                Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.V }],
                Margin = new Margin { T = 16 },
            };
            curveTraces = traces;
            curvePointsRead = read;
            curvePointsDrawn = drawn;
            curveVersion++;
            curvesMs = watch.Elapsed.TotalMilliseconds;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "Reading the {Metric} curves of runs {Runs} failed", key, loadedParam);
            problem = L["The curves could not be read; the log has the details."];
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
            rows.Add(new CompareRow(new RunColumn(RunColumn.Metrics, key), values.Select(v => v is null ? null : Fmt.Number(v, "#,0.#####")).ToList(),
                values.Distinct().Count() > 1));
        }
        tableRows = rows;
    }

    private void OnParcoordsParamsChanged(IReadOnlyCollection<string> chosen)
    {
        parcoordsParams = chosen.ToList();
        BuildParcoords();
    }

    private void OnParcoordsMetricChanged(string? metric)
    {
        parcoordsMetric = metric;
        BuildParcoords();
    }

    private void BuildParcoords()
    {
        parcoordsVersion++;
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
        dimensions.Add(new Plotly.Blazor.Traces.ParCoordsLib.Dimension { Label = metric, Values = complete.Select(r => (object)r.Metrics[metric]).ToList() });
        parcoordsTraces =
        [
            new ParCoords
            {
                Dimensions = dimensions,
                Line = new ParLine
                {
                    ColorArray = complete.Select(r => (object)r.Metrics[metric]).ToList(),
                    ColorScale = "Viridis",
                    ShowScale = true,
                    ColorBar = new Plotly.Blazor.Traces.ParCoordsLib.LineLib.ColorBar
                    {
                        Title = new Plotly.Blazor.Traces.ParCoordsLib.LineLib.ColorBarLib.Title { Text = metric },
                    },
                },
            },
        ];
        parcoordsLayout = new Layout { Margin = new Margin { L = 64, R = 48, T = 56, B = 24 } };
    }

    private Plotly.Blazor.Traces.ParCoordsLib.Dimension Dimension(string key, IReadOnlyList<string> values)
    {
        if (numericParams.Contains(key))
        {
            return new Plotly.Blazor.Traces.ParCoordsLib.Dimension
            {
                Label = key, Values = values.Select(v => (object)(TryNumber(v, out var n) ? n : 0)).ToList(),
            };
        }
        var categories = values.Distinct().Order(StringComparer.Ordinal).ToList();
        var index = categories.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (double)p.i, StringComparer.Ordinal);
        return new Plotly.Blazor.Traces.ParCoordsLib.Dimension
        {
            Label = key,
            Values = values.Select(v => (object)index[v]).ToList(),
            TickVals = categories.Select((_, i) => (object)(double)i).ToList(),
            TickText = categories.Cast<object>().ToList(),
        };
    }

    private void OnScatterParamChanged(string? param)
    {
        scatterParam = param;
        BuildScatter();
    }

    private void OnScatterMetricChanged(string? metric)
    {
        scatterMetric = metric;
        BuildScatter();
    }

    private void BuildScatter()
    {
        scatterVersion++;
        scatterTraces = [];
        scatterPoints = 0;
        if (scatterParam is not { } param || scatterMetric is not { } metric) return;
        var points = runs.Where(r => r.Params.ContainsKey(param) && r.Metrics.ContainsKey(metric)).ToList();
        var numeric = numericParams.Contains(param);
        scatterPoints = points.Count;
        scatterTraces =
        [
            new Scatter
            {
                Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
                Name = metric,
                X = points.Select(r => numeric && TryNumber(r.Params[param], out var n) ? n : (object)r.Params[param]).ToList(),
                Y = points.Select(r => (object)r.Metrics[metric]).ToList(),
                TextArray = points.Select(r => r.Label).ToList(),
                Marker = new Plotly.Blazor.Traces.ScatterLib.Marker { Color = "#1976d2", Size = 10 },
                HoverTemplate = $"%{{text}}<br>{Escape(param)} = %{{x}}<br>{Escape(metric)} = %{{y}}<extra></extra>",
            },
        ];
        scatterLayout = new Layout
        {
            XAxis =
            [
                new XAxis
                {
                    Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = param }, AutoMargin = Plotly.Blazor.LayoutLib.XAxisLib.AutoMarginFlag.True,
                    Type = numeric ? null : Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Category,
                },
            ],
            YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = metric }, AutoMargin = Plotly.Blazor.LayoutLib.YAxisLib.AutoMarginFlag.True }],
            Margin = new Margin { T = 16 },
        };
    }

    private string Timing()
    {
        var read = L["read in {0} ms", Fmt.Number(loadMs, "0")].Value;
        return curvesMs > 0
            ? read + " · " + L["curves {0} ms ({1} points read, at most {2} drawn per run)", Fmt.Number(curvesMs, "0"), Fmt.Int(curvePointsRead), MaxPointsPerCurve]
            : read;
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
