using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using ModelOps.Engine.Training;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Jobs;
using ModelOps.Portal.Shell;
using ModelOps.Portal.Tracking;
using MudBlazor;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;

namespace ModelOps.Portal.Runs;

/// <summary>
/// One run, live: RunEvents pushes status and metric points, which are appended to the charts with
/// plotly's extendTraces and to the latest-metrics table; a slow poll of the store covers updates the
/// in-process fan-out dropped.
/// </summary>
public sealed partial class RunDetail
{
    private const string TrainLoss = "train_loss";
    private const string ValLoss = "val_loss";
    private const string StepLoss = "train_loss_step";
    private const string ValAccuracy = "val_accuracy";
    private const string LossChart = "loss";
    private const string AccuracyChart = "accuracy";
    // System metrics (docs/cost.md): utilisation on one chart, memory on the other; x = seconds since the run started.
    private const string UsageChart = "system-usage";
    private const string MemoryChart = "system-memory";
    private static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(3);
    private const int MaxPointsPerCurve = 2000;

    [Inject] private IDbContextFactory<PortalDb> DbFactory { get; set; } = default!;
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private RunEvents Events { get; set; } = default!;
    [Inject] private ILogger<RunDetail> Log { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IStringLocalizer<RunsText> L { get; set; } = default!;
    [Inject] private IStringLocalizer<ShellText> S { get; set; } = default!;
    [Inject] private Microsoft.Extensions.Options.IOptions<CostOptions> Prices { get; set; } = default!;
    [Inject] private Identity.Access Access { get; set; } = default!;

    [Parameter] public int Id { get; set; }
    [CascadingParameter] public UiPreferences? Preferences { get; set; }

    private int loadedId;
    private Run? run;
    private bool notFound;
    /// <summary>The caller's role in the run's team (its experiment's), read on each reload: what the buttons offer; each action checks again.</summary>
    private Identity.TeamRole? role;
    private bool CanEdit => role >= Identity.TeamRole.Editor;
    private string datasetName = "";
    private int datasetId;
    private int datasetVersion;
    private string experimentName = "";
    private RunEvaluation? evaluation;
    private TrainingOptions? options;
    private List<(string Name, int Version, string Stage)> registrations = [];
    private ModelVersionRef? parentModel;
    private string? deviceNote;
    private string? frozenLayers;
    private bool hasPyTorch;
    private ModelOps.Jobs.Protocol.CrossValidationDto? crossValidation;
    private IReadOnlyList<ModelOps.Jobs.Protocol.FoldDto> folds = [];

    private IDisposable? subscription;
    private Timer? reconcileTimer;
    private bool loaded;
    private bool? confusionDark;
    private readonly List<MetricPointView> pending = [];
    private Dictionary<string, LiveSeries> series = [];

    private PortalChart? lossChart;
    private PortalChart? accuracyChart;
    private PortalChart? usageChart;
    private PortalChart? memoryChart;
    private IList<ITrace> usageTraces = [];
    private IList<ITrace> memoryTraces = [];
    private Layout usageLayout = new();
    private Layout memoryLayout = new();
    private RunTrackingPanel? trackingPanel;
    private IList<ITrace> lossTraces = [];
    private IList<ITrace> accuracyTraces = [];
    private IList<ITrace> confusionTraces = [];
    private Layout lossLayout = new();
    private Layout accuracyLayout = new();
    private Layout confusionLayout = new();

    private bool cancelling;
    private string? actionError;
    private string registerName = "";
    private bool registering;
    private string? registerError;

    /// <summary>Buttons and the name field wait for the circuit: a click or text before it would be lost.</summary>
    private bool Live => RendererInfo.IsInteractive;

    private double ProgressPercent => run is null ? 0 : Math.Round(Math.Clamp(run.Progress, 0, 1) * 100, 1);

    private int LossPoints => series.Values.Where(s => s.Chart == LossChart).Sum(s => s.Count);

    private int SystemPoints => series.Values.Where(s => s.Chart is UsageChart or MemoryChart).Sum(s => s.Count);

    /// <summary>The run's compute at the current prices; null for a run nobody measured (a tracked run).</summary>
    private ComputeView? Compute => run is null ? null : RunCompute.View(run.GpuSeconds, run.CpuCoreSeconds, Prices.Value);

    /// <summary>A compute time; "none" for a measured zero (GPU time of a CPU run), "—" when nobody measured it.</summary>
    private string Seconds(double? seconds) => seconds switch
    {
        null => "—",
        <= 0 => L["none"],
        { } s => Fmt.Duration(TimeSpan.FromSeconds(s), S),
    };

    private string ConfusionStyle => $"width:100%;height:{Math.Clamp(160 + 34 * (evaluation?.ClassNames.Length ?? 0), 300, 640)}px;";

    private bool Dark => Preferences?.Dark ?? false;

    private List<BreadcrumbItem> Breadcrumbs =>
    [
        new(L["Experiments"], "experiments"),
        new(experimentName, $"experiments?experiment={run?.ExperimentId}"),
        new(L["Run {0}", Id], null, disabled: true),
    ];

    private string FineTuneNote
    {
        get
        {
            var trains = options!.TrainableLayers > 0 ? L["last {0} weighted layers train", options.TrainableLayers] : L["all layers train"];
            return frozenLayers is { } f && f != "0" ? L["{0}; {1} layers kept frozen", trains, f] : trains;
        }
    }

    protected override async Task OnParametersSetAsync()
    {
        if (Id == loadedId)
        {
            if (evaluation is not null && confusionDark != Dark) BuildConfusionChart(evaluation);
            return;
        }
        await StopWatchingAsync();
        ResetState();
        loadedId = Id;

        // Subscribe before reading the store so no point falls between the two; duplicates are dropped by step.
        subscription = Events.Subscribe(Id, update => InvokeAsync(() => ApplyUpdateAsync(update)));
        if (!await ReloadRunAsync())
        {
            notFound = true;
            return;
        }
        if (run!.Kind == RunKind.Training)
        {
            await using var db = await DbFactory.CreateDbContextAsync();
            // Long runs log many steps: each curve is downsampled on the server (LTTB keeps the spikes).
            foreach (var (key, s) in series)
            {
                var points = await TrackingStore.SeriesAsync(db, Id, key, CancellationToken.None) ?? [];
                foreach (var p in Downsampling.Lttb(points, MaxPointsPerCurve, q => q.Step, q => q.Value)) s.Seed(p.Step, p.Value);
            }
        }
        loaded = true;
        foreach (var p in pending) series.GetValueOrDefault(p.Key)?.Seed(p.Step, p.Value);
        pending.Clear();
        registerName = ModelNames.SuggestFrom(datasetName);
        // Only a live circuit watches the store; the prerendered page is thrown away.
        if (Live) reconcileTimer = new Timer(_ => _ = InvokeAsync(ReconcileAsync), null, ReconcileInterval, ReconcileInterval);
    }

    private void ResetState()
    {
        run = null;
        notFound = false;
        evaluation = null;
        registrations = [];
        loaded = false;
        pending.Clear();
        actionError = registerError = null;
        var trainLoss = LiveSeries.NewTrace(L["train loss"], "#1976d2", markers: true);
        var valLoss = LiveSeries.NewTrace(L["validation loss"], "#e65100", markers: true);
        var stepLoss = LiveSeries.NewTrace(L["train loss per step"], "#90caf9", markers: false, width: 1, xAxis: "x2", opacity: 0.6m);
        var valAccuracy = LiveSeries.NewTrace(L["Validation accuracy"], "#2e7d32", markers: true, hover: L["epoch %{x}: %{y:.2%}"] + "<extra></extra>");
        var cpu = LiveSeries.NewTrace(L["CPU %"], "#6a1b9a", markers: false);
        var gpu = LiveSeries.NewTrace(L["GPU %"], "#2e7d32", markers: false);
        var memory = LiveSeries.NewTrace(L["memory (MiB)"], "#00838f", markers: false);
        var gpuMemory = LiveSeries.NewTrace(L["GPU memory (MiB)"], "#ef6c00", markers: false);
        series = new Dictionary<string, LiveSeries>(StringComparer.Ordinal)
        {
            [TrainLoss] = new(TrainLoss, LossChart, 0, trainLoss),
            [ValLoss] = new(ValLoss, LossChart, 1, valLoss),
            [StepLoss] = new(StepLoss, LossChart, 2, stepLoss),
            [ValAccuracy] = new(ValAccuracy, AccuracyChart, 0, valAccuracy),
            [ModelOps.Jobs.Worker.SystemSampler.CpuPercentKey] = new(ModelOps.Jobs.Worker.SystemSampler.CpuPercentKey, UsageChart, 0, cpu),
            [ModelOps.Jobs.Worker.SystemSampler.GpuPercentKey] = new(ModelOps.Jobs.Worker.SystemSampler.GpuPercentKey, UsageChart, 1, gpu),
            [ModelOps.Jobs.Worker.SystemSampler.MemoryKey] = new(ModelOps.Jobs.Worker.SystemSampler.MemoryKey, MemoryChart, 0, memory),
            [ModelOps.Jobs.Worker.SystemSampler.GpuMemoryKey] = new(ModelOps.Jobs.Worker.SystemSampler.GpuMemoryKey, MemoryChart, 1, gpuMemory),
        };
        lossTraces = [trainLoss, valLoss, stepLoss];
        accuracyTraces = [valAccuracy];
        usageTraces = [cpu, gpu];
        memoryTraces = [memory, gpuMemory];
    }

    /// <summary>
    /// Whole-number epoch ticks. A forced tick every epoch with automargin makes plotly re-measure
    /// every label on every live update (37 s per draw at 150 epochs, measured), so one tick per
    /// epoch is kept for short runs only and the margin stays fixed.
    /// </summary>
    private XAxis EpochAxis() => new()
    {
        Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = L["epoch"] },
        TickFormat = "d",
        DTick = run is { Epochs: <= 20 } ? 1 : null,
        NTicks = 10,
    };

    private void BuildLayouts()
    {
        lossLayout = new Layout
        {
            XAxis =
            [
                EpochAxis(),
                // The per-step curve gets its own x axis, unlabelled: step numbers above epoch numbers crowd the chart.
                new XAxis { Overlaying = "x", Side = Plotly.Blazor.LayoutLib.XAxisLib.SideEnum.Top, ShowGrid = false, ShowTickLabels = false, ZeroLine = false },
            ],
            YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = L["Loss"] } }],
            Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H, X = 0, Y = -0.25m }],
            Margin = new Plotly.Blazor.LayoutLib.Margin { T = 40, B = 40, L = 60, R = 20 },
        };
        accuracyLayout = new Layout
        {
            XAxis = [EpochAxis()],
            // Fixed 0-100% (a little headroom so points at 100% stay visible): autorange turns a flat line into 0-200%.
            YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = L["Accuracy"] }, TickFormat = ".0%", Range = [0, 1.05] }],
            ShowLegend = false,
            Margin = new Plotly.Blazor.LayoutLib.Margin { T = 40, B = 40, L = 60, R = 20 },
        };
        usageLayout = SystemLayout(L["percent of one core / of the GPU"]);
        memoryLayout = SystemLayout(L["MiB"]);
    }

    /// <summary>A system chart: seconds since the run started across, the figure up; the legend below.</summary>
    private Layout SystemLayout(string yTitle) => new()
    {
        XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = L["seconds since the run started"] }, TickFormat = "d" }],
        YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = yTitle }, RangeMode = Plotly.Blazor.LayoutLib.YAxisLib.RangeModeEnum.ToZero }],
        Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H, X = 0, Y = -0.3m }],
        Margin = new Plotly.Blazor.LayoutLib.Margin { T = 20, B = 40, L = 60, R = 20 },
    };

    /// <summary>Reads the run row (and what hangs off it) from the store; false when it does not exist.</summary>
    private async Task<bool> ReloadRunAsync()
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        var fresh = await db.Runs.AsNoTracking().Include(r => r.DatasetVersion).ThenInclude(v => v!.Dataset).FirstOrDefaultAsync(r => r.Id == Id && r.DeletedAt == null);
        if (fresh is null) return false;
        var experiment = await db.Experiments.AsNoTracking().Where(e => e.Id == fresh.ExperimentId).Select(e => new { e.Name, e.TeamId }).FirstOrDefaultAsync();
        // A run of a team the caller is not in is not theirs to see: the page says it was not found.
        role = experiment is null ? null : await Access.RoleAsync(experiment.TeamId);
        if (role is null) return false;
        var first = run is null;
        run = fresh;
        options = RunOptions.Read(fresh);
        // The epoch axis depends on the run's length; charts render only once the run is loaded.
        if (first) BuildLayouts();
        datasetName = fresh.DatasetVersion?.Dataset?.Name ?? "";
        datasetId = fresh.DatasetVersion?.DatasetId ?? 0;
        datasetVersion = fresh.DatasetVersion?.Version ?? 0;
        experimentName = experiment?.Name ?? $"#{fresh.ExperimentId}";
        if (evaluation is null && fresh.EvaluationJson is not null)
        {
            evaluation = RunEvaluation.From(fresh);
            if (evaluation is not null) BuildConfusionChart(evaluation);
        }
        parentModel = fresh.ParentModelVersionId is { } parentId
            ? await db.ModelVersions.AsNoTracking().Where(v => v.Id == parentId).Select(v => new ModelVersionRef(v.RegisteredModel!.Name, v.Version)).FirstOrDefaultAsync()
            : null;
        var tags = (await TrackingStore.TagsAsync(db, [Id], CancellationToken.None))[Id];
        deviceNote = tags.GetValueOrDefault(ModelOps.Jobs.Worker.WorkerProgram.DeviceNoteTag);
        frozenLayers = (await TrackingStore.ParamsAsync(db, [Id], CancellationToken.None))[Id].GetValueOrDefault("frozen_layers");
        hasPyTorch = await db.RunArtifacts.AsNoTracking().AnyAsync(a => a.RunId == Id && a.Path == ModelOps.Jobs.Protocol.WorkerArtifacts.PyTorchStateDict);
        if (options.CrossValidationFolds > 0) await LoadFoldsAsync(db, fresh);
        registrations = (await db.ModelVersions.AsNoTracking().Where(v => v.RunId == Id)
                .Select(v => new { v.RegisteredModel!.Name, v.Version, v.Stage }).ToListAsync())
            .Select(v => (v.Name, v.Version, v.Stage)).ToList();
        return true;
    }

    /// <summary>The finish report's folds, or while the run cross-validates the cv_&lt;metric&gt; points (step = fold) that arrived so far.</summary>
    private async Task LoadFoldsAsync(PortalDb db, Run fresh)
    {
        crossValidation = RunCrossValidation.From(fresh);
        if (crossValidation is not null)
        {
            folds = crossValidation.Folds;
            return;
        }
        var byFold = new SortedDictionary<long, Dictionary<string, double>>();
        var latest = (await TrackingStore.LatestAsync(db, [Id], CancellationToken.None))[Id];
        foreach (var key in latest.Select(m => m.Key).Where(k => k.StartsWith("cv_", StringComparison.Ordinal) && !k.EndsWith("_mean", StringComparison.Ordinal) && !k.EndsWith("_std", StringComparison.Ordinal)))
            foreach (var p in await TrackingStore.SeriesAsync(db, Id, key, CancellationToken.None) ?? [])
                (byFold.TryGetValue(p.Step, out var m) ? m : byFold[p.Step] = [])[key["cv_".Length..]] = p.Value;
        folds = byFold.Select(f => new ModelOps.Jobs.Protocol.FoldDto((int)f.Key, 0, 0, 0, f.Value)).ToList();
    }

    private async Task ApplyUpdateAsync(RunUpdate update)
    {
        if (update.RunId != loadedId || run is null && loaded) return;
        if (!loaded)
        {
            pending.AddRange(update.NewMetrics);
            return;
        }
        var statusChanged = run!.Status != update.Status;
        run.Status = update.Status;
        run.Progress = update.Progress;
        run.CurrentEpoch = update.CurrentEpoch;
        if (update.Message is not null && !update.Status.IsTerminal()) run.StatusMessage = update.Message;
        await AppendAsync(update.NewMetrics);
        if (statusChanged || update.Status.IsTerminal())
            await ReloadRunAsync();
        StateHasChanged();
    }

    /// <summary>Catches up with the store: status, and any metric points an event did not deliver.</summary>
    private async Task ReconcileAsync()
    {
        if (!loaded || run is null) return;
        try
        {
            var fresh = new List<MetricPointView>();
            if (run.Kind == RunKind.Training)
            {
                await using var db = await DbFactory.CreateDbContextAsync();
                // Points after the last step each curve holds: those an event did not deliver.
                foreach (var (key, s) in series)
                {
                    var after = s.LastStep is { } last ? new SeriesPoint(last, double.PositiveInfinity, long.MaxValue) : (SeriesPoint?)null;
                    var points = await TrackingStore.SeriesPageAsync(db, Id, key, after, TrackingApi.MaxMaxPoints, CancellationToken.None);
                    fresh.AddRange(points.Select(p => new MetricPointView(key, p.Step, p.Value)));
                }
            }
            else if (trackingPanel is not null)
            {
                fresh.AddRange(await trackingPanel.MissedPointsAsync());
            }
            await AppendAsync(fresh.OrderBy(m => m.Step).ToList());
            var wasTerminal = run.Status.IsTerminal();
            await ReloadRunAsync();
            if (run.Status.IsTerminal() && wasTerminal && fresh.Count == 0)
                reconcileTimer?.Change(Timeout.Infinite, Timeout.Infinite);
            StateHasChanged();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.LogWarning(ex, "Refreshing run {RunId} failed", Id);
        }
    }

    /// <summary>New points go to this page's curves and to the tracking panel (latest values, tracked-run charts) at once.</summary>
    private async Task AppendAsync(IReadOnlyList<MetricPointView> points)
    {
        if (points.Count == 0) return;
        await LiveCurves.AppendAsync(series, points, chart => chart switch
        {
            LossChart => lossChart,
            AccuracyChart => accuracyChart,
            UsageChart => usageChart,
            MemoryChart => memoryChart,
            _ => null,
        });
        if (trackingPanel is not null) await trackingPanel.AddPointsAsync(points);
    }

    private void BuildConfusionChart(RunEvaluation e)
    {
        confusionDark = Dark;
        var names = e.ClassNames.Length == e.ConfusionMatrix.Length
            ? e.ClassNames
            : Enumerable.Range(0, e.ConfusionMatrix.Length).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        // Few to many: light to dark on a light page, dark to bright on a dark one, so empty cells sink into the background.
        object[][] scale = Dark
            ? [[0, "#1b2633"], [0.5, "#2f6ea8"], [1, "#9fd0ff"]]
            : [[0, "#f4f8fd"], [0.5, "#6aaed6"], [1, "#08306b"]];
        var trace = new Plotly.Blazor.Traces.HeatMap
        {
            X = names.Cast<object>().ToList(),
            Y = names.Cast<object>().ToList(),
            Z = e.ConfusionMatrix.Select(row => (object)row).ToList(),
            ColorScale = scale,
            TextTemplate = "%{z}",
            HoverTemplate = L["true %{y}, predicted %{x}: %{z}"] + "<extra></extra>",
            ShowScale = false,
        };
        if (confusionTraces.Count == 1 && confusionTraces[0] is Plotly.Blazor.Traces.HeatMap shown)
        {
            // The chart keeps its list: a theme change redraws the same trace with the other colours.
            shown.ColorScale = scale;
            return;
        }
        confusionTraces = [trace];
        confusionLayout = new Layout
        {
            XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = L["predicted"] }, Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Category, Side = Plotly.Blazor.LayoutLib.XAxisLib.SideEnum.Bottom }],
            YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = L["true"] }, Type = Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Category, AutoRange = Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.Reversed }],
            Margin = new Plotly.Blazor.LayoutLib.Margin { T = 8, B = 60, L = 80, R = 10 },
        };
    }

    /// <summary>Ends a client-reported run as finished or killed (the API's POST runs/{id}/end), after a confirmation.</summary>
    public Task EndAsync(string status)
    {
        var finished = status == ClientRunService.Finished;
        return ConfirmedActionAsync(
            finished ? L["Mark as finished"] : L["Mark as killed"],
            finished
                ? L["Mark run {0} as finished? Nothing more can be logged to it afterwards.", RunLabel]
                : L["Mark run {0} as killed? Its script is not stopped by this; nothing more can be logged to it afterwards.", RunLabel],
            services => services.GetRequiredService<ClientRunService>().EndAsync(Id, status, CancellationToken.None),
            L["Run {0} ended.", Id], Severity.Success);
    }

    public Task CancelAsync() => ConfirmedActionAsync(
        L["Cancel run"], L["Stop run {0}? A cancelled run cannot be resumed.", RunLabel],
        services => services.GetRequiredService<RunLauncher>().CancelAsync(Id, CancellationToken.None),
        L["Cancelling run {0}.", Id], Severity.Info);

    private string RunLabel => run?.Name ?? Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A state change the user confirms first (the dialog's yes button repeats the action's name), run in a
    /// scope of its own; the outcome is a snackbar, a refusal the service's sentence above the page.
    /// </summary>
    private async Task ConfirmedActionAsync(string action, string question, Func<IServiceProvider, Task> change, string done, Severity severity)
    {
        actionError = null;
        try
        {
            // Asked before the question (a Viewer is told at once) and again before the change.
            await RequireEditorAsync(Access);
        }
        catch (PortalException ex)
        {
            actionError = ex.Sentence();
            return;
        }
        var confirmed = await Dialogs.ShowMessageBoxAsync(action, question, yesText: action, cancelText: L["Keep running"]);
        if (confirmed != true) return;
        cancelling = true;
        try
        {
            await using (var scope = Scopes.CreateAsyncScope())
            {
                await RequireEditorAsync(scope.ServiceProvider.GetRequiredService<Identity.Access>());
                await change(scope.ServiceProvider);
            }
            await ReloadRunAsync();
            Snackbar.Add(done, severity);
        }
        catch (PortalException ex)
        {
            actionError = ex.Sentence();
        }
        finally
        {
            cancelling = false;
        }
    }

    /// <summary>Cancelling, ending and registering a run need an Editor in its team (as the API's POST routes on runs/{id}).</summary>
    private async Task RequireEditorAsync(Identity.Access access)
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        var team = await db.Runs.Where(r => r.Id == Id && r.DeletedAt == null).Select(r => (int?)r.Experiment!.TeamId).FirstOrDefaultAsync()
            ?? throw PortalException.NotFound($"Run {Id}");
        await access.RequireAsync(team, Identity.TeamRole.Editor, $"Run {Id}");
    }

    public async Task RegisterAsync()
    {
        registering = true;
        registerError = null;
        try
        {
            ModelVersion version;
            await using (var scope = Scopes.CreateAsyncScope())
            {
                await RequireEditorAsync(scope.ServiceProvider.GetRequiredService<Identity.Access>());
                version = await scope.ServiceProvider.GetRequiredService<RegistryService>().RegisterAsync(Id, registerName, CancellationToken.None);
            }
            await ReloadRunAsync();
            Snackbar.Add(L["Registered as {0} v{1}.", registerName.Trim(), version.Version], Severity.Success);
        }
        catch (PortalException ex)
        {
            // Without the register form (a Viewer) the refusal shows above the page.
            if (CanEdit) registerError = ex.Sentence();
            else actionError = ex.Sentence();
        }
        finally
        {
            registering = false;
        }
    }

    private async Task StopWatchingAsync()
    {
        subscription?.Dispose();
        subscription = null;
        if (reconcileTimer is not null)
        {
            await reconcileTimer.DisposeAsync();
            reconcileTimer = null;
        }
    }

    public ValueTask DisposeAsync() => new(StopWatchingAsync());

    private static string F(double v) => Fmt.Number(v, "0.########");

    private string OnOff(bool on) => on ? L["on"] : L["off"];

    private string ModelSummary(TrainingOptions o) => o.Template switch
    {
        ModelOps.Engine.Models.ModelTemplates.Mlp => L["hidden layers {0}, batch norm {1}, dropout {2}", string.Join(",", o.HiddenLayers), OnOff(o.BatchNorm), F(o.Dropout)],
        ModelOps.Engine.Models.ModelTemplates.Cnn => L["{0} conv blocks, width {1}, batch norm {2}, dropout {3}", o.ConvBlocks, o.ConvWidth, OnOff(o.BatchNorm), F(o.Dropout)],
        ModelOps.Engine.Models.ModelTemplates.TextTransformer => L["{0} encoder layers, {1} attention heads, model width {2}, feed-forward {3}, max tokens {4}, vocabulary {5}, dropout {6}",
            o.TransformerLayers, o.AttentionHeads, o.EmbeddingDim, o.HiddenSize, o.MaxTokens, o.VocabularySize, F(o.Dropout)],
        ModelOps.Engine.Models.ModelTemplates.TextCnn => L["embedding {0}, {1} filters per kernel, max tokens {2}, vocabulary {3}, dropout {4}", o.EmbeddingDim, o.HiddenSize, o.MaxTokens, o.VocabularySize, F(o.Dropout)],
        _ => L["embedding {0}, hidden {1}, max tokens {2}, vocabulary {3}, dropout {4}", o.EmbeddingDim, o.HiddenSize, o.MaxTokens, o.VocabularySize, F(o.Dropout)],
    };

    private string OptimizerSummary(TrainingOptions o)
    {
        var text = L["{0}, lr {1}", o.Optimizer, F(o.LearningRate)].Value;
        if (o.Optimizer == Optimizers.Sgd) text += o.Nesterov ? L[", momentum {0}, nesterov", F(o.Momentum)] : L[", momentum {0}", F(o.Momentum)];
        if (o.WeightDecay > 0) text += L[", weight decay {0}", F(o.WeightDecay)];
        return text;
    }

    private string ScheduleSummary(TrainingOptions o) => o.Schedule switch
    {
        Schedules.Step => L["step (every {0} epochs x{1})", o.StepSize, F(o.Gamma)],
        Schedules.None => L["none"],
        _ => o.WarmupEpochs > 0 ? L["{0} (warm-up {1} epochs)", o.Schedule, F(o.WarmupEpochs)] : o.Schedule,
    };

    private string RegularizationSummary(TrainingOptions o)
    {
        var parts = new List<string>();
        if (o.LabelSmoothing > 0) parts.Add(L["label smoothing {0}", F(o.LabelSmoothing)]);
        if (o.ClassWeights) parts.Add(L["weighted classes"]);
        if (o.GradClipNorm > 0) parts.Add(L["gradient clipping {0}", F(o.GradClipNorm)]);
        if (o.EarlyStoppingPatience > 0) parts.Add(L["early stopping on {0} (patience {1})", o.EarlyStoppingMetric, o.EarlyStoppingPatience]);
        return parts.Count == 0 ? L["none"] : string.Join(L[", "], parts);
    }

    private string DataSummary(TrainingOptions o) => o.CategoricalEncoding == CategoricalEncodings.Embedding
        ? L["missing values: {0}, categorical: {1} (width {2})", o.MissingValues, o.CategoricalEncoding, o.EmbeddingDim]
        : L["missing values: {0}, categorical: {1}", o.MissingValues, o.CategoricalEncoding];
}
