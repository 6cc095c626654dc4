using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Shell;
using MudBlazor;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;

namespace ModelOps.Portal.Retraining;

/// <summary>
/// The retraining schedules (docs/schedules.md): each one's recipe, triggers, next fires in its own time
/// zone, gate, last outcome and cost; Run now, Pause/Resume, Edit and Delete; and the chosen schedule's
/// fires with both of the gate's figures. While a fire is pending the page reads itself again every 2 s,
/// so a fire moves from pending to its outcome in front of the user.
/// </summary>
public sealed partial class Schedules
{
    internal const int HistoryCount = 50;
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);
    /// <summary>How long the page keeps looking for the fire a Run now queued (the fire row appears when its job runs).</summary>
    private static readonly TimeSpan RunNowWatch = TimeSpan.FromSeconds(30);

    [Inject] private IDbContextFactory<PortalDb> DbFactory { get; set; } = default!;
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ILogger<Schedules> Log { get; set; } = default!;
    [Inject] private IOptions<CostOptions> Prices { get; set; } = default!;
    [Inject] private IStringLocalizer<RetrainingText> L { get; set; } = default!;
    [Inject] private IStringLocalizer<ShellText> S { get; set; } = default!;
    [Inject] private Identity.Access Access { get; set; } = default!;

    /// <summary>The schedule whose history shows first: ?schedule=id.</summary>
    [SupplyParameterFromQuery(Name = "schedule")] public int? ScheduleQuery { get; set; }

    private IReadOnlyList<ScheduleView>? views;
    private IReadOnlyList<FireView> fires = [];
    private int? selectedId;
    private DateTimeOffset now = DateTimeOffset.UtcNow;
    private bool pending;
    private DateTime watchUntil = DateTime.MinValue;
    private readonly HashSet<int> busy = [];
    /// <summary>The last action's failure, until the next action.</summary>
    private string? error;
    /// <summary>The last read's failure, until a read succeeds.</summary>
    private string? loadError;

    /// <summary>The teams the page lists (the team switch's, else all the caller's), read once.</summary>
    private IReadOnlyList<int>? teams;
    /// <summary>The caller's role in each listed schedule's team: what its buttons offer (each action checks again).</summary>
    private Dictionary<int, Identity.TeamRole?> roles = [];
    /// <summary>Whether the caller may create a schedule in the team they work in.</summary>
    private bool canCreate;

    private bool Can(Schedule s, Identity.TeamRole needed) => roles.GetValueOrDefault(s.TeamId) is { } role && role >= needed;

    private bool formOpen;
    private int? editId;
    private ScheduleRequest? editRequest;
    private int formKey;

    private IList<ITrace> chartTraces = new List<ITrace>();
    private Layout chartLayout = new();
    private string chartSignature = "";
    private int chartVersion;

    private Timer? timer;
    private bool disposed;
    private int refreshing;
    private int idleTicks;
    private const int IdleTicks = 5;

    private ScheduleView? selectedView => views?.FirstOrDefault(v => v.Schedule.Id == selectedId);

    protected override async Task OnInitializedAsync()
    {
        selectedId = ScheduleQuery;
        await LoadAsync();
        // A page closed during that first load is disposed already: it must not start a timer nobody stops.
        if (RendererInfo.IsInteractive && !disposed)
            timer = new Timer(_ => _ = InvokeAsync(TickAsync), null, RefreshInterval, RefreshInterval);
    }

    /// <summary>The schedules, the chosen one's fires, and whether any fire is still pending.</summary>
    private async Task LoadAsync()
    {
        try
        {
            if (teams is null)
            {
                teams = await Access.ListTeamsAsync();
                canCreate = await Access.CurrentTeamAsync() is { } current && await Access.HasAsync(current, Identity.TeamRole.Editor);
            }
            await using (var scope = Scopes.CreateAsyncScope())
            {
                var service = scope.ServiceProvider.GetRequiredService<ScheduleService>();
                var list = await service.ListAsync(CancellationToken.None, teams);
                var owners = new Dictionary<int, Identity.TeamRole?>();
                foreach (var team in list.Select(v => v.Schedule.TeamId).Distinct()) owners[team] = await Access.RoleAsync(team);
                roles = owners;
                var history = selectedId is { } id && list.Any(v => v.Schedule.Id == id)
                    ? await service.FiresAsync(id, HistoryCount, CancellationToken.None)
                    : [];
                views = list;
                fires = history;
                loadError = null;
                if (selectedId is { } chosen && list.All(v => v.Schedule.Id != chosen)) selectedId = null;
            }
            // Only a fire whose run is still going (or has just ended) moves on its own; a stuck one does not keep every tab polling.
            var since = DateTime.UtcNow.AddHours(-24);
            await using (var db = await DbFactory.CreateDbContextAsync())
                pending = await db.ScheduleFires.AnyAsync(f => f.Outcome == FireOutcomes.Pending && f.FiredAt > since);
            now = DateTimeOffset.UtcNow;
            BuildChart();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.LogWarning(ex, "Reading the schedules failed");
            views ??= [];
            loadError = ex.Sentence();
        }
    }

    /// <summary>
    /// The auto-refresh: every tick while a fire is pending or a Run now's fire has yet to appear;
    /// otherwise every <see cref="IdleTicks"/>th tick, so a fire that starts elsewhere (a new dataset
    /// version, a cron tick, the API) shows without a reload while an idle tab stays nearly quiet.
    /// </summary>
    private async Task TickAsync()
    {
        if (!pending && DateTime.UtcNow > watchUntil && ++idleTicks % IdleTicks != 0) return;
        if (Interlocked.Exchange(ref refreshing, 1) == 1) return;
        try
        {
            await LoadAsync();
            StateHasChanged();
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            Volatile.Write(ref refreshing, 0);
        }
    }

    private async Task SelectAsync(int id)
    {
        selectedId = selectedId == id ? null : id;
        await LoadAsync();
    }

    /// <summary>What the row shows in red: a deleted dataset (in the user's language), else the last fire's failure as the service recorded it.</summary>
    private string? ProblemOf(ScheduleView view) =>
        !view.DatasetExists ? L["Dataset '{0}' no longer exists.", view.Schedule.DatasetName] : view.ProblemIn(CultureInfo.CurrentUICulture);

    /// <summary>A fire's reason in the reader's language.</summary>
    private static string? ReasonOf(ScheduleFire fire) => FireReason.Localized(fire, CultureInfo.CurrentUICulture);

    private string DatasetText(Schedule s) =>
        s.DatasetVersion is { } v ? L["{0} v{1} (pinned)", s.DatasetName, v] : L["{0} (latest version)", s.DatasetName];

    private string WhatText(Schedule s)
    {
        var options = ScheduleService.OptionsOf(s);
        var what = s.FineTuneModel is { } model
            ? s.FineTuneVersion is { } v ? L["fine-tune model {0} v{1}", model, v] : L["fine-tune model {0} (Production)", model]
            : L["template {0}", options.Template];
        return L["{0}, {1} epochs", what, Fmt.Int(options.Epochs)];
    }

    /// <summary>A cost when prices are set, else GPU and CPU core hours.</summary>
    private string ComputeText(ComputeView? c) => c is null ? "—"
        : c.Cost is not null ? RunCompute.CostText(c)
        : L["{0} GPU h, {1} CPU core h", RunCompute.HoursText(c.GpuSeconds), RunCompute.HoursText(c.CpuCoreSeconds)];

    /// <summary>The candidate's figure per decided fire, oldest first, with the Production version's beside it; at least two fires.</summary>
    private void BuildChart()
    {
        var decided = fires.Select(f => f.Fire)
            .Where(f => FireOutcomes.IsEnded(f.Outcome) && f.CandidateValue is not null)
            .OrderBy(f => f.Id).ToList();
        var signature = selectedId + ":" + string.Join(",", decided.Select(f => $"{f.Id}={f.CandidateValue}/{f.ProductionValue}"));
        if (signature == chartSignature) return;
        chartSignature = signature;
        chartVersion++;
        if (decided.Count < 2)
        {
            chartTraces = new List<ITrace>();
            return;
        }
        var metric = decided[^1].Metric ?? selectedView?.Schedule.GateMetric ?? "";
        var x = decided.Select(f => (object)DateTime.SpecifyKind(f.FiredAt, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).ToList();
        var withProduction = decided.Where(f => f.ProductionValue is not null).ToList();
        chartTraces = new List<ITrace>
        {
            new Scatter
            {
                Name = L["candidate"],
                Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines | Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
                X = x,
                Y = decided.Select(f => (object)f.CandidateValue!.Value).ToList(),
                Marker = new Plotly.Blazor.Traces.ScatterLib.Marker { Color = "#1976d2", Size = 9 },
            },
            new Scatter
            {
                Name = L["Production"],
                Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines | Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
                X = withProduction.Select(f => (object)DateTime.SpecifyKind(f.FiredAt, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).ToList(),
                Y = withProduction.Select(f => (object)f.ProductionValue!.Value).ToList(),
                Marker = new Plotly.Blazor.Traces.ScatterLib.Marker { Color = "#2e7d32", Size = 9 },
                Line = new Plotly.Blazor.Traces.ScatterLib.Line { Dash = "dash" },
            },
        };
        chartLayout = new Layout
        {
            XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = L["fired at (UTC)"] }, AutoMargin = Plotly.Blazor.LayoutLib.XAxisLib.AutoMarginFlag.True }],
            YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = metric }, AutoMargin = Plotly.Blazor.LayoutLib.YAxisLib.AutoMarginFlag.True }],
            Margin = new Plotly.Blazor.LayoutLib.Margin { T = 16 },
        };
    }

    // ---- the form ----

    private void OpenNew()
    {
        if (!canCreate) return;
        editId = null;
        editRequest = null;
        formKey++;
        formOpen = true;
    }

    private void OpenEdit(ScheduleView view)
    {
        // The form's save checks the role again; this only keeps a Viewer from a form they cannot save.
        if (!Can(view.Schedule, Identity.TeamRole.Editor)) return;
        editId = view.Schedule.Id;
        editRequest = ScheduleRequest.From(view.Schedule);
        formKey++;
        formOpen = true;
    }

    private void CloseForm()
    {
        formOpen = false;
        editId = null;
        editRequest = null;
    }

    private async Task SavedAsync(Schedule saved)
    {
        Snackbar.Add(editId is null ? L["Schedule '{0}' created.", saved.Name] : L["Schedule '{0}' saved.", saved.Name], Severity.Success);
        CloseForm();
        selectedId = saved.Id;
        await LoadAsync();
    }

    // ---- row actions: each says what happened, and a refusal is the service's sentence ----

    public async Task RunNowAsync(ScheduleView view)
    {
        await ActAsync(view, Identity.TeamRole.Editor, async service =>
        {
            await service.RunNowAsync(view.Schedule.Id, CancellationToken.None);
            watchUntil = DateTime.UtcNow + RunNowWatch;
            selectedId = view.Schedule.Id;
            Snackbar.Add(L["Schedule '{0}' fires now; the fire shows in its history in a moment.", view.Schedule.Name], Severity.Success);
        });
    }

    public async Task SetPausedAsync(ScheduleView view, bool paused)
    {
        await ActAsync(view, Identity.TeamRole.Editor, async service =>
        {
            await service.SetPausedAsync(view.Schedule.Id, paused, CancellationToken.None);
            Snackbar.Add(paused ? L["Schedule '{0}' is paused: it does not fire until it is resumed.", view.Schedule.Name]
                : L["Schedule '{0}' is active again.", view.Schedule.Name], Severity.Success);
        });
    }

    public async Task DeleteAsync(ScheduleView view)
    {
        // Asked before the question (a non-Admin is told at once) and again before the change.
        error = null;
        try
        {
            await RequireAsync(Access, view.Schedule.Id, Identity.TeamRole.Admin);
        }
        catch (PortalException ex)
        {
            error = ex.Localized(CultureInfo.CurrentUICulture);
            Snackbar.Add(error, Severity.Error);
            return;
        }
        var confirmed = await Dialogs.ShowMessageBoxAsync(
            L["Delete schedule '{0}'?", view.Schedule.Name],
            L["It stops firing and its history goes with it; the runs it started and the models it registered stay."],
            yesText: L["Delete the schedule"], cancelText: L["Keep it"]);
        if (confirmed != true) return;
        await ActAsync(view, Identity.TeamRole.Admin, async service =>
        {
            await service.DeleteAsync(view.Schedule.Id, CancellationToken.None);
            if (selectedId == view.Schedule.Id) selectedId = null;
            if (editId == view.Schedule.Id) CloseForm();
            Snackbar.Add(L["Schedule '{0}' was deleted.", view.Schedule.Name], Severity.Success);
        });
    }

    /// <summary>The caller's role in the schedule's team, as the API's routes on schedules/{id} ask: run now, pause and resume Editor, delete Admin.</summary>
    private async Task RequireAsync(Identity.Access access, int id, Identity.TeamRole needed)
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        var team = await db.Schedules.Where(x => x.Id == id).Select(x => (int?)x.TeamId).FirstOrDefaultAsync() ?? throw PortalException.NotFound($"Schedule {id}");
        await access.RequireAsync(team, needed, $"Schedule {id}");
    }

    private async Task ActAsync(ScheduleView view, Identity.TeamRole needed, Func<ScheduleService, Task> action)
    {
        var id = view.Schedule.Id;
        busy.Add(id);
        error = null;
        try
        {
            await using var scope = Scopes.CreateAsyncScope();
            await RequireAsync(scope.ServiceProvider.GetRequiredService<Identity.Access>(), id, needed);
            await action(scope.ServiceProvider.GetRequiredService<ScheduleService>());
        }
        catch (PortalException ex)
        {
            error = ex.Localized(CultureInfo.CurrentUICulture);
            Snackbar.Add(error, Severity.Error);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.LogError(ex, "An action on schedule {Name} failed", view.Schedule.Name);
            error = L["Schedule '{0}': the action failed: {1}", view.Schedule.Name, ex.Message];
            Snackbar.Add(error, Severity.Error);
        }
        finally
        {
            busy.Remove(id);
        }
        await LoadAsync();
    }

    public async ValueTask DisposeAsync()
    {
        disposed = true;
        if (timer is not null) await timer.DisposeAsync();
    }
}

/// <summary>How the Schedules page and its form write times, outcomes, triggers and gates in the user's language.</summary>
internal static class SchedulesFormat
{
    /// <summary>A fire time in the schedule's own time zone: "Wed 12/2/2026 3:00 AM", followed by the zone's name unless it is shown once above.</summary>
    public static string InZone(DateTimeOffset at, string? zoneId, bool named = true)
    {
        var zone = ScheduleService.FindTimeZone(zoneId) ?? TimeZoneInfo.Utc;
        var local = TimeZoneInfo.ConvertTime(at, zone);
        var culture = CultureInfo.CurrentCulture;
        var text = $"{local.ToString("ddd", culture)} {local.ToString("g", culture)}";
        return named ? $"{text} {zone.Id}" : text;
    }

    /// <summary>The zone the times are in, as the server knows it (an unknown one reads as UTC, as the service schedules it).</summary>
    public static string ZoneName(string? zoneId) => (ScheduleService.FindTimeZone(zoneId) ?? TimeZoneInfo.Utc).Id;

    /// <summary>"in 3 h 5 min".</summary>
    public static string Relative(DateTimeOffset at, DateTimeOffset now, IStringLocalizer<RetrainingText> l, IStringLocalizer<ShellText> s) =>
        l["in {0}", Fmt.Duration(at - now, s)];

    public static string GateModeName(string mode, IStringLocalizer<RetrainingText> l) => mode switch
    {
        GateModes.Promote => l["Promote if better"],
        GateModes.Stage => l["Stage for review"],
        GateModes.Register => l["Register only"],
        _ => mode,
    };

    public static string GateModeHelp(string mode, IStringLocalizer<RetrainingText> l) => mode switch
    {
        GateModes.Promote => l["The new version replaces Production when it beats it on the gate metric by the margin, both scored on the new run's test split."],
        GateModes.Stage => l["The new version goes to Staging, for a person to promote."],
        _ => l["The new version is registered and its stage left alone."],
    };

    public static string OutcomeName(string outcome, IStringLocalizer<RetrainingText> l) => outcome switch
    {
        FireOutcomes.Pending => l["pending"],
        FireOutcomes.Skipped => l["skipped"],
        FireOutcomes.Failed => l["failed"],
        FireOutcomes.Promoted => l["promoted"],
        FireOutcomes.Staged => l["staged"],
        FireOutcomes.Registered => l["registered"],
        FireOutcomes.Kept => l["kept Production"],
        _ => outcome,
    };

    public static Color OutcomeColor(string outcome) => outcome switch
    {
        FireOutcomes.Pending => Color.Secondary,
        FireOutcomes.Failed => Color.Error,
        FireOutcomes.Promoted => Color.Success,
        FireOutcomes.Staged => Color.Info,
        FireOutcomes.Registered => Color.Primary,
        FireOutcomes.Kept => Color.Warning,
        _ => Color.Default,
    };

    public static string TriggerName(string trigger, IStringLocalizer<RetrainingText> l) => trigger switch
    {
        FireTriggers.Cron => l["timetable (cron)"],
        FireTriggers.DatasetVersion => l["new dataset version"],
        FireTriggers.Manual => l["Run now"],
        _ => trigger,
    };
}
