using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using ModelOps.Engine.Training;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Shell;

namespace ModelOps.Portal.Retraining;

/// <summary>
/// The create/edit form of a schedule. It keeps the options it does not show (an edited schedule's
/// hidden layers, dropout, ...) as they were, previews the cron expression's next fires in its time zone
/// while it is typed, and leaves every check to <see cref="ScheduleService"/>: a refused save shows all
/// the service's problems at once and stores nothing.
/// </summary>
public sealed partial class ScheduleForm
{
    internal static readonly string[] Devices = ["auto", "cpu", "cuda"];
    internal static readonly string[] ClassificationMetrics = ["accuracy", "f1_macro", "f1_weighted", "roc_auc"];
    internal static readonly string[] RegressionMetrics = ["r2", "mse", "mae"];

    [Inject] private IDbContextFactory<PortalDb> DbFactory { get; set; } = default!;
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private ILogger<ScheduleForm> Log { get; set; } = default!;
    [Inject] private IStringLocalizer<RetrainingText> L { get; set; } = default!;
    [Inject] private IStringLocalizer<ShellText> S { get; set; } = default!;
    [Inject] private Identity.Access Access { get; set; } = default!;

    /// <summary>The schedule being edited; null for a new one.</summary>
    [Parameter] public int? EditId { get; set; }

    /// <summary>The edited schedule as a request (<see cref="ScheduleRequest.From"/>); null for a new one.</summary>
    [Parameter] public ScheduleRequest? Initial { get; set; }

    [Parameter] public EventCallback<Schedule> OnSaved { get; set; }

    [Parameter] public EventCallback OnCancel { get; set; }

    private readonly FormState form = new();
    private TrainingOptions baseOptions = new();
    private List<DatasetChoice>? datasets;
    private List<ModelChoice> models = [];
    private string? suggestedTarget;
    private bool saving;
    private string? error;
    private IReadOnlyList<string> problems = [];
    /// <summary>The experiment a new schedule trains in: the default one when the team works in it, else the team's first.</summary>
    private int? newExperimentId;

    internal sealed record DatasetChoice(int Id, string Name, IReadOnlyList<VersionChoice> Versions);

    internal sealed record VersionChoice(int Version, string Kind, int Rows);

    internal sealed record ModelChoice(string Name, IReadOnlyList<ModelVersionChoice> Versions);

    internal sealed record ModelVersionChoice(int Version, string Stage);

    /// <summary>The form's fields; TrainingOptions and ScheduleRequest are immutable, binding needs setters.</summary>
    private sealed class FormState
    {
        public string? Name { get; set; }
        public string? Description { get; set; }
        public int? DatasetId { get; set; }
        public int? DatasetVersion { get; set; }
        public bool FineTune { get; set; }
        public string Template { get; set; } = Templates.Mlp;
        public string Task { get; set; } = TrainingTasks.Classification;
        public string? FineTuneModel { get; set; }
        public int? FineTuneVersion { get; set; }
        public int Epochs { get; set; }
        public int BatchSize { get; set; }
        public double LearningRate { get; set; }
        public string Device { get; set; } = "auto";
        public string? TargetModel { get; set; }
        public string? Cron { get; set; }
        public string? TimeZone { get; set; } = "UTC";
        public bool OnNewDatasetVersion { get; set; }
        public bool AllowOverlap { get; set; }
        public bool Paused { get; set; }
        public string GateMode { get; set; } = GateModes.Promote;
        public string GateMetric { get; set; } = "accuracy";
        public double GateMargin { get; set; }
    }

    private bool Locked => !RendererInfo.IsInteractive || saving;

    private DatasetChoice? ChosenDataset => datasets?.FirstOrDefault(d => d.Id == form.DatasetId);

    private ModelChoice? ChosenModel => models.FirstOrDefault(m => m.Name == form.FineTuneModel);

    /// <summary>The kind of the version the next fire would train on: the pinned one, else the latest.</summary>
    private string DatasetKind =>
        ChosenDataset is { } d
            ? (d.Versions.FirstOrDefault(v => v.Version == form.DatasetVersion) ?? d.Versions.FirstOrDefault())?.Kind ?? DatasetKinds.Csv
            : DatasetKinds.Csv;

    private IReadOnlyList<string> FittingTemplates => Templates.Fitting(DatasetKind);

    /// <summary>A fine-tune's network (and so what it can learn) is its parent's; the task must match it, which the service checks.</summary>
    private IReadOnlyList<string> FittingTasks => form.FineTune ? TrainingTasks.All : Templates.Tasks(form.Template);

    private string[] FittingMetrics => form.Task == TrainingTasks.Regression ? RegressionMetrics : ClassificationMetrics;

    protected override async Task OnInitializedAsync()
    {
        try
        {
            await LoadChoicesAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The form stays up with the message; the circuit must not end over a failed read.
            error = L["The datasets and models to choose from could not be read: {0}", ex.Message];
        }
    }

    private async Task LoadChoicesAsync()
    {
        // The choices are the listed teams' (the team switch's, else all the caller's); saving checks the role.
        var teams = await Access.ListTeamsAsync();
        var current = await Access.CurrentTeamAsync();
        await using var db = await DbFactory.CreateDbContextAsync();
        newExperimentId = current is { } team
            ? await db.Experiments.AsNoTracking().Where(e => e.TeamId == team && e.DeletedAt == null)
                .OrderBy(e => e.Id != Tracking.Experiment.DefaultId).ThenBy(e => e.Id).Select(e => (int?)e.Id).FirstOrDefaultAsync()
            : null;
        var versions = await db.DatasetVersions.AsNoTracking().Where(v => teams.Contains(v.Dataset!.TeamId))
            .Select(v => new { v.DatasetId, v.Version, v.Kind, v.Rows }).ToListAsync();
        datasets = (await db.Datasets.AsNoTracking().Where(d => teams.Contains(d.TeamId)).OrderBy(d => d.Name).Select(d => new { d.Id, d.Name }).ToListAsync())
            .Select(d => new DatasetChoice(d.Id, d.Name, versions.Where(v => v.DatasetId == d.Id).OrderByDescending(v => v.Version)
                .Select(v => new VersionChoice(v.Version, v.Kind, v.Rows)).ToList()))
            .ToList();
        var modelVersions = await db.ModelVersions.AsNoTracking().Where(v => teams.Contains(v.RegisteredModel!.TeamId))
            .Select(v => new { v.RegisteredModel!.Name, v.Version, v.Stage }).ToListAsync();
        models = modelVersions.GroupBy(v => v.Name).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ModelChoice(g.Key, g.OrderByDescending(v => v.Version).Select(v => new ModelVersionChoice(v.Version, v.Stage)).ToList()))
            .ToList();

        if (Initial is { } r)
        {
            baseOptions = r.Options ?? new TrainingOptions();
            form.Name = r.Name;
            form.Description = r.Description;
            form.DatasetId = r.DatasetId;
            form.DatasetVersion = r.DatasetVersion;
            form.FineTune = r.FineTuneModel is not null;
            form.FineTuneModel = r.FineTuneModel;
            form.FineTuneVersion = r.FineTuneVersion;
            form.TargetModel = r.TargetModel;
            form.Cron = r.Cron;
            form.TimeZone = r.TimeZone ?? "UTC";
            form.OnNewDatasetVersion = r.OnNewDatasetVersion;
            form.AllowOverlap = r.AllowOverlap;
            form.Paused = r.Paused;
            form.GateMode = r.GateMode ?? GateModes.Promote;
            form.GateMargin = r.GateMargin ?? 0;
            CopyOptions(baseOptions);
            form.GateMetric = r.GateMetric ?? FittingMetrics[0];
        }
        else
        {
            CopyOptions(baseOptions);
            form.Cron = "0 3 * * *";
            if (datasets.FirstOrDefault() is { } first) DatasetChanged(first.Id);
        }
    }

    private void CopyOptions(TrainingOptions o)
    {
        form.Template = o.Template;
        form.Task = o.Task;
        form.Epochs = o.Epochs;
        form.BatchSize = o.BatchSize;
        form.LearningRate = o.LearningRate;
        form.Device = string.IsNullOrWhiteSpace(o.Device) ? "auto" : o.Device;
    }

    private string DatasetText(int? id) => datasets?.FirstOrDefault(d => d.Id == id)?.Name ?? "";

    private string DatasetVersionText(int? version) => version is { } v ? L["v{0}", v] : "";

    private string FineTuneVersionText(int? version) => version is { } v ? L["v{0}", v] : "";

    private string TaskText(string? task) => task == TrainingTasks.Regression ? L["regression"] : L["classification"];

    private string DeviceText(string? device) => device switch
    {
        "cpu" => L["CPU only"],
        "cuda" => L["GPU (CUDA)"],
        _ => L["auto"],
    };

    /// <summary>A new dataset: the latest version, a template that fits its kind, and a target model named after it unless one was typed.</summary>
    private void DatasetChanged(int? id)
    {
        form.DatasetId = id;
        form.DatasetVersion = null;
        if (!FittingTemplates.Contains(form.Template)) TemplateChanged(FittingTemplates[0]);
        if (ChosenDataset is { } d && (string.IsNullOrWhiteSpace(form.TargetModel) || form.TargetModel == suggestedTarget))
            form.TargetModel = suggestedTarget = ModelNames.SuggestFrom(d.Name);
    }

    private async Task SourceChanged(bool fineTune)
    {
        form.FineTune = fineTune;
        if (!fineTune)
        {
            form.FineTuneModel = null;
            form.FineTuneVersion = null;
            if (!Templates.Tasks(form.Template).Contains(form.Task)) TaskChanged(TrainingTasks.Classification);
        }
        else if (form.FineTuneModel is null && models.FirstOrDefault() is { } first)
            await FineTuneModelChanged(first.Name);
    }

    /// <summary>A model to fine-tune: the task becomes that of the version a fire would start from, so the gate offers the fitting metrics.</summary>
    private async Task FineTuneModelChanged(string? name)
    {
        form.FineTuneModel = name;
        form.FineTuneVersion = null;
        if (name is null) return;
        try
        {
            await using var db = await DbFactory.CreateDbContextAsync();
            var versions = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModel!.Name == name)
                .OrderByDescending(v => v.Version).Select(v => new { v.Stage, v.Run }).ToListAsync();
            var chosen = versions.FirstOrDefault(v => v.Stage == ModelStages.Production) ?? versions.FirstOrDefault();
            if (chosen?.Run is { } run) TaskChanged(RunOptions.Read(run).Task);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only a convenience: the service checks the task against the parent when the form is saved.
            Log.LogWarning(ex, "Reading the task of model {Model} failed", name);
        }
    }

    private void TemplateChanged(string template)
    {
        form.Template = template;
        if (!Templates.Tasks(template).Contains(form.Task)) TaskChanged(TrainingTasks.Classification);
    }

    private void TaskChanged(string task)
    {
        form.Task = task;
        if (!FittingMetrics.Contains(form.GateMetric)) form.GateMetric = FittingMetrics[0];
    }

    /// <summary>The next three fires as the form stands, or why there are none.</summary>
    private (IReadOnlyList<DateTimeOffset> Next, IReadOnlyList<string> Problems) Preview
    {
        get
        {
            var found = new List<string>();
            var zone = string.IsNullOrWhiteSpace(form.TimeZone) ? "UTC" : form.TimeZone.Trim();
            if (ScheduleService.FindTimeZone(zone) is null)
                found.Add(L["'{0}' is not a time zone this server knows: use an IANA name such as 'UTC' or 'Europe/Berlin'.", zone]);
            if (string.IsNullOrWhiteSpace(form.Cron))
            {
                if (!form.OnNewDatasetVersion)
                    found.Add(L["Choose when the schedule fires: a cron expression, every new version of the dataset, or both."]);
                return ([], found);
            }
            if (ScheduleService.ParseCron(form.Cron) is null)
                found.Add(L["'{0}' is not a cron expression: use five fields (minute hour day-of-month month day-of-week), e.g. '0 3 * * *'.", form.Cron.Trim()]);
            return found.Count > 0 ? ([], found) : (ScheduleService.NextFires(form.Cron, zone, DateTimeOffset.UtcNow, 3), found);
        }
    }

    private ScheduleRequest BuildRequest() => new()
    {
        Name = form.Name,
        Description = form.Description,
        DatasetId = form.DatasetId,
        DatasetVersion = form.DatasetVersion,
        FineTuneModel = form.FineTune ? form.FineTuneModel : null,
        FineTuneVersion = form.FineTune ? form.FineTuneVersion : null,
        Options = baseOptions with
        {
            Template = form.Template,
            Task = form.Task,
            Epochs = form.Epochs,
            BatchSize = form.BatchSize,
            LearningRate = form.LearningRate,
            Device = form.Device,
        },
        TargetModel = form.TargetModel,
        ExperimentId = Initial?.ExperimentId ?? newExperimentId,
        Cron = form.Cron,
        TimeZone = form.TimeZone,
        OnNewDatasetVersion = form.OnNewDatasetVersion,
        AllowOverlap = form.AllowOverlap,
        Paused = form.Paused,
        GateMode = form.GateMode,
        GateMetric = form.GateMetric,
        GateMargin = form.GateMargin,
    };

    public async Task SaveAsync()
    {
        if (saving) return;
        saving = true;
        error = null;
        problems = [];
        try
        {
            Schedule saved;
            // A scope per write: the circuit lives for hours and must not keep one DbContext.
            await using (var scope = Scopes.CreateAsyncScope())
            {
                await RequireEditorAsync(scope.ServiceProvider);
                var service = scope.ServiceProvider.GetRequiredService<ScheduleService>();
                saved = EditId is { } id
                    ? await service.UpdateAsync(id, BuildRequest(), CancellationToken.None)
                    : await service.CreateAsync(BuildRequest(), CancellationToken.None);
            }
            saving = false;
            await OnSaved.InvokeAsync(saved);
        }
        catch (PortalException ex)
        {
            problems = ex.AllSentences();
            error = problems.Count > 1 ? L["This schedule cannot be saved: {0} problems.", problems.Count] : ex.Sentence();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.LogError(ex, "Saving schedule {Name} failed", form.Name);
            error = L["The schedule could not be saved: {0}", ex.Message];
        }
        finally
        {
            saving = false;
        }
    }

    private Task CancelAsync() => OnCancel.InvokeAsync();

    /// <summary>
    /// Saving needs an Editor: of the schedule's team when editing, of the team of the experiment a new one trains
    /// in when creating (the schedule becomes that team's). The service trusts its caller.
    /// </summary>
    private async Task RequireEditorAsync(IServiceProvider services)
    {
        var access = services.GetRequiredService<Identity.Access>();
        var db = services.GetRequiredService<PortalDb>();
        if (EditId is { } id)
        {
            var team = await db.Schedules.Where(x => x.Id == id).Select(x => (int?)x.TeamId).FirstOrDefaultAsync() ?? throw PortalException.NotFound($"Schedule {id}");
            await access.RequireAsync(team, Identity.TeamRole.Editor, $"Schedule {id}");
            return;
        }
        if (BuildRequest().ExperimentId is { } experimentId
            && await db.Experiments.Where(e => e.Id == experimentId && e.DeletedAt == null).Select(e => (int?)e.TeamId).FirstOrDefaultAsync() is { } owner)
            await access.RequireAsync(owner, Identity.TeamRole.Editor, $"Experiment {experimentId}");
        else
            await access.TeamToWriteAsync(Identity.TeamRole.Editor);
    }
}
