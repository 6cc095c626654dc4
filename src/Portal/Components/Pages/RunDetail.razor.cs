using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Components.Shared;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Components.Pages;

/// <summary>
/// One run, live: RunEvents pushes status and metric points, which are appended to the charts with
/// plotly's extendTraces; a slow poll of the store covers updates the in-process fan-out dropped.
/// </summary>
public sealed partial class RunDetail
{
    private const string TrainLoss = "train_loss";
    private const string ValLoss = "val_loss";
    private const string StepLoss = "train_loss_step";
    private const string ValAccuracy = "val_accuracy";
    private static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(3);

    [Inject] private IDbContextFactory<PortalDb> DbFactory { get; set; } = default!;
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private RunEvents Events { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;
    [Inject] private ILogger<RunDetail> Log { get; set; } = default!;

    [Parameter] public int Id { get; set; }

    private int loadedId;
    private Run? run;
    private bool notFound;
    private string datasetName = "";
    private int datasetId;
    private int datasetVersion;
    private RunEvaluation? evaluation;
    private ModelOps.Engine.Training.TrainingOptions? options;
    private List<(string Name, int Version, string Stage)> registrations = [];
    private ModelVersionRef? parentModel;
    private string? deviceNote;
    private string? frozenLayers;
    private bool hasPyTorch;
    private ModelOps.Jobs.Protocol.CrossValidationDto? crossValidation;
    private IReadOnlyList<ModelOps.Jobs.Protocol.FoldDto> folds = [];

    private string FrozenNote => frozenLayers is { } f && f != "0" ? $"; {f} layers kept frozen" : "";

    private IDisposable? subscription;
    private Timer? reconcileTimer;
    private bool loaded;
    private readonly List<MetricPointView> pending = [];
    private readonly Dictionary<string, Series> series = [];
    private const int MaxPointsPerCurve = 2000;

    private PlotlyChart? lossChart;
    private PlotlyChart? accuracyChart;
    private IReadOnlyList<PlotlyTrace> lossTraces = [];
    private IReadOnlyList<PlotlyTrace> accuracyTraces = [];
    private IReadOnlyList<PlotlyTrace> confusionTraces = [];
    private PlotlyLayout lossLayout = new();
    private PlotlyLayout accuracyLayout = new();
    private PlotlyLayout confusionLayout = new();

    private bool cancelling;
    private string? actionError;
    private string registerName = "";
    private bool registering;
    private string? registerError;

    private double ProgressPercent => run is null ? 0 : Math.Round(Math.Clamp(run.Progress, 0, 1) * 100, 1);

    private string ConfusionStyle => $"width:100%;height:{Math.Clamp(160 + 34 * (evaluation?.ClassNames.Length ?? 0), 300, 640)}px;";

    /// <summary>One metric key's points, in step order; the lists are shared with the plotly traces.</summary>
    private sealed class Series(string chart, int traceIndex)
    {
        public string Chart { get; } = chart;
        public int TraceIndex { get; } = traceIndex;
        public List<double> X { get; } = [];
        public List<double> Y { get; } = [];
        public HashSet<long> Steps { get; } = [];
    }

    protected override async Task OnParametersSetAsync()
    {
        if (Id == loadedId) return;
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
        await using (var db = await DbFactory.CreateDbContextAsync())
        {
            // Long runs log many steps: each curve is downsampled on the server (LTTB keeps the spikes).
            foreach (var key in series.Keys.ToList())
            {
                var points = await TrackingStore.SeriesAsync(db, Id, key, CancellationToken.None) ?? [];
                foreach (var p in Downsampling.Lttb(points, MaxPointsPerCurve, q => q.Step, q => q.Value)) AddPoint(key, p.Step, p.Value);
            }
        }
        loaded = true;
        foreach (var p in pending) AddPoint(p.Key, p.Step, p.Value);
        pending.Clear();
        registerName = Ui.ModelNameFrom(datasetName);
        reconcileTimer = new Timer(_ => _ = InvokeAsync(ReconcileAsync), null, ReconcileInterval, ReconcileInterval);
    }

    private void ResetState()
    {
        run = null;
        notFound = false;
        evaluation = null;
        registrations = [];
        loaded = false;
        pending.Clear();
        series.Clear();
        actionError = registerError = null;
        series[TrainLoss] = new Series("loss", 0);
        series[ValLoss] = new Series("loss", 1);
        series[StepLoss] = new Series("loss", 2);
        series[ValAccuracy] = new Series("accuracy", 0);
        lossTraces =
        [
            new PlotlyTrace { Name = "train loss", Mode = "lines+markers", X = series[TrainLoss].X, Y = series[TrainLoss].Y, Line = new PlotlyLine("#1976d2", 2) },
            new PlotlyTrace { Name = "validation loss", Mode = "lines+markers", X = series[ValLoss].X, Y = series[ValLoss].Y, Line = new PlotlyLine("#e65100", 2) },
            new PlotlyTrace { Name = "train loss per step", Mode = "lines", X = series[StepLoss].X, Y = series[StepLoss].Y, XAxis = "x2", Line = new PlotlyLine("#90caf9", 1), Opacity = 0.6 },
        ];
        accuracyTraces =
        [
            new PlotlyTrace { Name = "validation accuracy", Mode = "lines+markers", X = series[ValAccuracy].X, Y = series[ValAccuracy].Y, Line = new PlotlyLine("#2e7d32", 2), HoverTemplate = "epoch %{x}: %{y:.2%}<extra></extra>" },
        ];
        lossLayout = new PlotlyLayout
        {
            XAxis = EpochAxis(),
            // The per-step curve gets its own x axis, unlabelled: step numbers above epoch numbers crowd the chart.
            XAxis2 = new PlotlyAxis { Overlaying = "x", Side = "top", ShowGrid = false, ShowTickLabels = false, ZeroLine = false },
            YAxis = new PlotlyAxis { Title = new PlotlyTitle("loss"), AutoMargin = true },
            Legend = new PlotlyLegend("h", 0, -0.25),
            Margin = new PlotlyMargin(T: 40),
        };
        accuracyLayout = new PlotlyLayout
        {
            XAxis = EpochAxis(),
            // Fixed 0-100% (a little headroom so points at 100% stay visible): autorange turns a flat line into 0-200%.
            YAxis = new PlotlyAxis { Title = new PlotlyTitle("accuracy"), TickFormat = ".0%", Range = [0, 1.05], AutoMargin = true },
            ShowLegend = false,
        };
    }

    /// <summary>
    /// Whole-number epoch ticks. A forced tick every epoch with automargin makes plotly re-measure
    /// every label on every live update (37 s per draw at 150 epochs, measured), so one tick per
    /// epoch is kept for short runs only and the margin stays fixed.
    /// </summary>
    private PlotlyAxis EpochAxis() => new()
    {
        Title = new PlotlyTitle("epoch"),
        TickFormat = "d",
        DTick = run is { Epochs: <= 20 } ? 1 : null,
        NTicks = 10,
    };

    /// <summary>Reads the run row (and what hangs off it) from the store; false when it does not exist.</summary>
    private async Task<bool> ReloadRunAsync()
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        var fresh = await db.Runs.AsNoTracking().Include(r => r.DatasetVersion).ThenInclude(v => v!.Dataset).FirstOrDefaultAsync(r => r.Id == Id);
        if (fresh is null) return false;
        var first = run is null;
        run = fresh;
        options = RunOptions.Read(fresh);
        if (first)
        {
            // The epoch axis depends on the run's length; charts render only once the run is loaded.
            lossLayout = lossLayout with { XAxis = EpochAxis() };
            accuracyLayout = accuracyLayout with { XAxis = EpochAxis() };
        }
        datasetName = fresh.DatasetVersion?.Dataset?.Name ?? "";
        datasetId = fresh.DatasetVersion?.DatasetId ?? 0;
        datasetVersion = fresh.DatasetVersion?.Version ?? 0;
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
            await using (var db = await DbFactory.CreateDbContextAsync())
            {
                // Points after the last step each curve holds: those an event did not deliver.
                foreach (var (key, s) in series)
                {
                    var after = s.X.Count == 0 ? (SeriesPoint?)null : new SeriesPoint((long)s.X.Max(), double.PositiveInfinity, long.MaxValue);
                    var points = await TrackingStore.SeriesPageAsync(db, Id, key, after, TrackingApi.MaxMaxPoints, CancellationToken.None);
                    fresh.AddRange(points.Select(p => new MetricPointView(key, p.Step, p.Value)));
                }
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

    private async Task AppendAsync(IReadOnlyList<MetricPointView> points)
    {
        var added = new Dictionary<Series, (List<double> X, List<double> Y)>();
        foreach (var p in points)
        {
            if (AddPoint(p.Key, p.Step, p.Value) is not { } s) continue;
            if (!added.TryGetValue(s, out var lists)) added[s] = lists = ([], []);
            lists.X.Add(p.Step);
            lists.Y.Add(p.Value);
        }
        foreach (var (chart, group) in added.GroupBy(a => a.Key.Chart).Select(g => (g.Key, g.ToList())))
        {
            var target = chart == "loss" ? lossChart : accuracyChart;
            if (target is null) continue;
            await target.ExtendAsync(
                group.Select(g => g.Key.TraceIndex).ToList(),
                group.Select(g => (IReadOnlyList<double>)g.Value.X).ToList(),
                group.Select(g => (IReadOnlyList<double>)g.Value.Y).ToList());
        }
    }

    /// <summary>Adds a point to its series unless that step is already there; returns the series when added.</summary>
    private Series? AddPoint(string key, long step, double value)
    {
        if (!series.TryGetValue(key, out var s) || !s.Steps.Add(step)) return null;
        s.X.Add(step);
        s.Y.Add(value);
        return s;
    }

    private void BuildConfusionChart(RunEvaluation e)
    {
        var names = e.ClassNames.Length == e.ConfusionMatrix.Length
            ? e.ClassNames
            : Enumerable.Range(0, e.ConfusionMatrix.Length).Select(i => i.ToString()).ToArray();
        confusionTraces =
        [
            new PlotlyTrace
            {
                Type = "heatmap",
                X = names,
                Y = names,
                Z = e.ConfusionMatrix,
                // Light for few, dark for many: plotly's own "Blues" runs the other way.
                ColorScale = new object[][] { [0, "#f4f8fd"], [0.5, "#6aaed6"], [1, "#08306b"] },
                TextTemplate = "%{z}",
                HoverTemplate = "true %{y}, predicted %{x}: %{z}<extra></extra>",
                ShowScale = false,
            },
        ];
        confusionLayout = new PlotlyLayout
        {
            XAxis = new PlotlyAxis { Title = new PlotlyTitle("predicted"), Type = "category", Side = "bottom", AutoMargin = true },
            YAxis = new PlotlyAxis { Title = new PlotlyTitle("true"), Type = "category", AutoRange = "reversed", AutoMargin = true },
            Margin = new PlotlyMargin(T: 8),
        };
    }

    private async Task CancelAsync()
    {
        cancelling = true;
        actionError = null;
        try
        {
            await Scopes.InScopeAsync<RunLauncher>(launcher => launcher.CancelAsync(Id, CancellationToken.None));
            await ReloadRunAsync();
        }
        catch (PortalException ex)
        {
            actionError = ex.Message;
        }
        finally
        {
            cancelling = false;
        }
    }

    private async Task RegisterAsync()
    {
        registering = true;
        registerError = null;
        try
        {
            await Scopes.InScopeAsync<RegistryService, ModelVersion>(registry => registry.RegisterAsync(Id, registerName, CancellationToken.None));
            await ReloadRunAsync();
        }
        catch (PortalException ex)
        {
            registerError = ex.Message;
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

    private static string F(double v) => v.ToString("0.########", System.Globalization.CultureInfo.InvariantCulture);

    private static string ModelSummary(ModelOps.Engine.Training.TrainingOptions o) => o.Template switch
    {
        ModelOps.Engine.Models.ModelTemplates.Mlp => $"hidden layers {string.Join(",", o.HiddenLayers)}, batch norm {(o.BatchNorm ? "on" : "off")}, dropout {F(o.Dropout)}",
        ModelOps.Engine.Models.ModelTemplates.Cnn => $"{o.ConvBlocks} conv blocks, width {o.ConvWidth}, batch norm {(o.BatchNorm ? "on" : "off")}, dropout {F(o.Dropout)}",
        ModelOps.Engine.Models.ModelTemplates.TextTransformer => $"{o.TransformerLayers} encoder layers, {o.AttentionHeads} attention heads, model width {o.EmbeddingDim}, feed-forward {o.HiddenSize}, max tokens {o.MaxTokens}, vocabulary {o.VocabularySize}, dropout {F(o.Dropout)}",
        ModelOps.Engine.Models.ModelTemplates.TextCnn => $"embedding {o.EmbeddingDim}, {o.HiddenSize} filters per kernel, max tokens {o.MaxTokens}, vocabulary {o.VocabularySize}, dropout {F(o.Dropout)}",
        _ => $"embedding {o.EmbeddingDim}, hidden {o.HiddenSize}, max tokens {o.MaxTokens}, vocabulary {o.VocabularySize}, dropout {F(o.Dropout)}",
    };

    private static string OptimizerSummary(ModelOps.Engine.Training.TrainingOptions o)
    {
        var text = $"{o.Optimizer}, lr {F(o.LearningRate)}";
        if (o.Optimizer == ModelOps.Engine.Training.Optimizers.Sgd) text += $", momentum {F(o.Momentum)}{(o.Nesterov ? ", nesterov" : "")}";
        if (o.WeightDecay > 0) text += $", weight decay {F(o.WeightDecay)}";
        return text;
    }

    private static string ScheduleSummary(ModelOps.Engine.Training.TrainingOptions o) => o.Schedule switch
    {
        ModelOps.Engine.Training.Schedules.Step => $"step (every {o.StepSize} epochs x{F(o.Gamma)})",
        ModelOps.Engine.Training.Schedules.None => "none",
        _ => o.WarmupEpochs > 0 ? $"{o.Schedule} (warm-up {F(o.WarmupEpochs)} epochs)" : o.Schedule,
    };

    private static string RegularizationSummary(ModelOps.Engine.Training.TrainingOptions o)
    {
        var parts = new List<string>();
        if (o.LabelSmoothing > 0) parts.Add($"label smoothing {F(o.LabelSmoothing)}");
        if (o.ClassWeights) parts.Add("class weights");
        if (o.GradClipNorm > 0) parts.Add($"gradient clipping {F(o.GradClipNorm)}");
        if (o.EarlyStoppingPatience > 0) parts.Add($"early stopping on {o.EarlyStoppingMetric} (patience {o.EarlyStoppingPatience})");
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}
