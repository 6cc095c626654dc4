using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Shell;
using ModelOps.Portal.Tracking.Query;
using MudBlazor;

namespace ModelOps.Portal.Tracking;

/// <summary>
/// The runs of one experiment, searched with the filter language and paged by cursor in SQL (<see cref="SearchApi"/>),
/// so the page reads one page of rows whatever the experiment's size. The query string is the page's state
/// (experiment, filter, order, columns, page size): every change navigates, so any screen is a link.
///
/// <para>Speed: the first screen needs only the experiment list and one page of runs. The default columns come
/// from the keys of the runs on that page, and the experiment's full key lists (for the column picker) are read
/// only when the picker is opened. The prerendered HTML already has the rows (the grid renders the page read
/// before the first paint); the live grid reads through <c>ServerData</c>, and its first call takes the page
/// the prerender handed over (persistent state) instead of searching again.</para>
/// </summary>
public sealed partial class Experiments
{
    public static readonly int[] PageSizes = [25, 50, 100];
    public const int MaxCompare = 100;
    private static readonly string[] PreferredMetrics = ["val_accuracy", "test_accuracy", "loss", "val_loss", "train_loss", "test_f1_macro"];
    private static readonly string[] PreferredParams = ["optimizer", "learning_rate", "lr", "batch_size", "epochs", "template"];

    [Inject] private IDbContextFactory<PortalDb> DbFactory { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;
    [Inject] private CurrentUser User { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IStringLocalizer<TrackingText> L { get; set; } = default!;
    [Inject] private IStringLocalizer<ShellText> S { get; set; } = default!;
    [Inject] private Microsoft.Extensions.Options.IOptions<CostOptions> Cost { get; set; } = default!;
    [Inject] private Identity.Access Access { get; set; } = default!;
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "experiment")] public int? ExperimentParam { get; set; }
    [SupplyParameterFromQuery(Name = "filter")] public string? FilterParam { get; set; }
    [SupplyParameterFromQuery(Name = "order")] public string? OrderParam { get; set; }
    [SupplyParameterFromQuery(Name = "cols")] public string? ColumnsParam { get; set; }
    [SupplyParameterFromQuery(Name = "size")] public int? SizeParam { get; set; }

    /// <summary>The page the prerender read, handed to the live circuit so it does not search again.</summary>
    [PersistentState] public RunPage? Prerendered { get; set; }

    public sealed record ExperimentOption(int Id, string Name, int RunCount);

    public sealed record RunRow(int Id, string Name, RunStatus Status, DateTime CreatedAt,
        IReadOnlyDictionary<string, string> Params, IReadOnlyDictionary<string, string> Tags, IReadOnlyDictionary<string, double> Metrics,
        ComputeView? Compute = null);

    /// <summary>One page of the search: <paramref name="Key"/> names the query and page it answers.</summary>
    public sealed record RunPage(string Key, List<RunRow> Rows, string? NextToken, long Total, double Ms, List<RunColumn> DefaultColumns);

    private List<ExperimentOption>? experiments;
    /// <summary>The experiment's compute, all its runs (docs/cost.md).</summary>
    private ComputeView? experimentCompute;
    private int experimentId;
    private string filter = "";
    private string order = "";
    private List<RunColumn> columns = [];
    private List<RunColumn>? defaultColumns;
    private int pageSize = PageSizes[0];

    private List<string>? metricKeys;
    private List<string>? paramKeys;
    private List<SavedView> savedViews = [];

    // Cursor paging: tokens[i] opens page i (tokens[0] is null); Previous pops, Next pushes.
    private readonly List<string?> tokens = [null];
    private string? nextToken;
    private List<RunRow> rows = [];
    private long total;
    private double queryMs;
    private bool loading;
    private bool loadedOnce;

    private MudDataGrid<RunRow>? grid;
    private string gridKey = "";
    private string renderedGridKey = "";
    private RunPage? pending;
    private Func<GridState<RunRow>, CancellationToken, Task<GridData<RunRow>>>? serverData;

    private string filterText = "";
    private string? filterError;
    private string? loadError;
    private readonly HashSet<int> selected = [];
    private string viewName = "";
    private string? viewProblem;
    private bool showLink;
    private bool showColumnPicker;
    private string stateKey = "";
    private int loadedExperiment = -1;

    /// <summary>The teams the page lists (the team switch's, else all the caller's).</summary>
    private IReadOnlyList<int>? teams;
    /// <summary>The caller's role in the shown experiment's team: what its buttons offer (each write checks again).</summary>
    private Identity.TeamRole? experimentRole;
    /// <summary>Whether the caller may create experiments and runs in the team they work in.</summary>
    private bool canCreate;

    private bool CanEdit => experimentRole >= Identity.TeamRole.Editor;

    private int PageIndex => tokens.Count - 1;

    private string QueryKey => $"{experimentId}\n{filter}\n{order}\n{pageSize}";

    private string PageKey => $"{QueryKey}\n{tokens[^1]}";

    protected override void OnInitialized()
    {
        // Before the circuit is live the grid renders the rows read for the prerender (Items); once live, it asks ServerData.
        if (RendererInfo.IsInteractive) serverData = LoadServerDataAsync;
    }

    protected override async Task OnParametersSetAsync()
    {
        if (teams is null)
        {
            teams = await Access.ListTeamsAsync();
            canCreate = await Access.CurrentTeamAsync() is { } current && await Access.HasAsync(current, Identity.TeamRole.Editor);
        }
        await using var db = await DbFactory.CreateDbContextAsync();
        experiments ??= await LoadExperimentsAsync(db);

        // With no experiment of the listed teams there is nothing to show: no experiment has id 0.
        experimentId = ExperimentParam is { } e && experiments.Any(x => x.Id == e) ? e
            : experiments.Any(x => x.Id == Experiment.DefaultId) ? Experiment.DefaultId
            : experiments.FirstOrDefault()?.Id ?? 0;
        filter = (FilterParam ?? "").Trim();
        order = (OrderParam ?? "").Trim();
        pageSize = SizeParam is { } s && PageSizes.Contains(s) ? s : PageSizes[0];

        if (experimentId != loadedExperiment)
        {
            savedViews = await LoadViewsAsync(db);
            var team = await db.Experiments.AsNoTracking().Where(x => x.Id == experimentId).Select(x => (int?)x.TeamId).FirstOrDefaultAsync();
            experimentRole = team is { } t ? await Access.RoleAsync(t) : null;
            metricKeys = null;
            paramKeys = null;
            defaultColumns = null;
            loadedExperiment = experimentId;
        }

        var key = QueryKey;
        var queryChanged = key != stateKey;
        if (queryChanged)
        {
            // A different query: its page tokens mean nothing to the new one.
            stateKey = key;
            filterText = filter;
            filterError = null;
            tokens.Clear();
            tokens.Add(null);
        }

        if (queryChanged || experimentCompute is null) experimentCompute = await ExperimentComputeAsync(db);

        var needsDefaults = ColumnsParam is null && defaultColumns is null;
        if (queryChanged || needsDefaults)
        {
            // Read now (or take what the prerender read): the default columns come from this page's keys.
            var page = Prerendered is { } handed && handed.Key == PageKey ? handed : await ReadPageAsync(db);
            Prerendered = RendererInfo.IsInteractive ? null : page;
            defaultColumns ??= page.DefaultColumns;
            Apply(page);
            pending = page;
        }
        columns = ColumnsParam is null ? defaultColumns ?? [] : RunColumn.ParseList(ColumnsParam);
        gridKey = $"{experimentId}\n{RunColumn.Join(columns)}";

        // The same grid with a new query: ask it to read again (it takes the pending page). A new grid reads by itself.
        if (queryChanged && grid is not null && gridKey == renderedGridKey) await grid.ReloadServerData();
    }

    protected override void OnAfterRender(bool firstRender) => renderedGridKey = gridKey;

    private async Task<List<ExperimentOption>> LoadExperimentsAsync(PortalDb db)
    {
        var counts = await db.Runs.AsNoTracking().Where(r => r.DeletedAt == null)
            .GroupBy(r => r.ExperimentId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count);
        var listed = teams ?? [];
        var list = await db.Experiments.AsNoTracking().Where(x => x.DeletedAt == null && listed.Contains(x.TeamId)).OrderBy(x => x.Name)
            .Select(x => new { x.Id, x.Name }).ToListAsync();
        return list.Select(x => new ExperimentOption(x.Id, x.Name, counts.GetValueOrDefault(x.Id))).ToList();
    }

    /// <summary>The sum of the experiment's runs' GPU and CPU core seconds, in one aggregate query.</summary>
    private async Task<ComputeView> ExperimentComputeAsync(PortalDb db)
    {
        var sums = await db.Runs.AsNoTracking().Where(r => r.ExperimentId == experimentId && r.DeletedAt == null)
            .GroupBy(r => 1).Select(g => new { Gpu = g.Sum(r => r.GpuSeconds ?? 0), Cpu = g.Sum(r => r.CpuCoreSeconds ?? 0) })
            .FirstOrDefaultAsync();
        return RunCompute.Sum(sums?.Gpu ?? 0, sums?.Cpu ?? 0, Cost.Value);
    }

    /// <summary>A run's cost, or without prices its compute time; "—" for a run nobody measured.</summary>
    private string ComputeCell(RunRow row) => row.Compute is not { } c ? "—"
        : c.Cost is not null ? RunCompute.CostText(c)
        : L["GPU {0} · CPU {1}", Fmt.Duration(TimeSpan.FromSeconds(c.GpuSeconds), S), Fmt.Duration(TimeSpan.FromSeconds(c.CpuCoreSeconds), S)];

    private Task<List<SavedView>> LoadViewsAsync(PortalDb db) =>
        db.SavedViews.AsNoTracking().Where(v => v.ExperimentId == experimentId).OrderBy(v => v.Name).ToListAsync();

    /// <summary>The preferred keys the page's runs have (else the first ones), three metrics and three params.</summary>
    private static List<RunColumn> DefaultColumnsOf(IReadOnlyList<RunRow> page)
    {
        // The worker's system/* figures are never a default column: they say nothing about the model.
        var metricKeys = page.SelectMany(r => r.Metrics.Keys).Where(k => !k.StartsWith(ModelOps.Jobs.Worker.SystemSampler.KeyPrefix, StringComparison.Ordinal))
            .Distinct().Order(StringComparer.Ordinal).ToList();
        var paramKeys = page.SelectMany(r => r.Params.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var metrics = PreferredMetrics.Where(metricKeys.Contains).Take(3).ToList();
        if (metrics.Count == 0) metrics = metricKeys.Take(3).ToList();
        var parameters = PreferredParams.Where(paramKeys.Contains).Take(3).ToList();
        if (parameters.Count == 0) parameters = paramKeys.Take(3).ToList();
        return [.. metrics.Select(k => new RunColumn(RunColumn.Metrics, k)), .. parameters.Select(k => new RunColumn(RunColumn.Params, k))];
    }

    /// <summary>Reads the page that <c>tokens[^1]</c> opens; a query the search refuses comes back as an empty page with the error.</summary>
    private async Task<RunPage> ReadPageAsync(PortalDb? existing = null)
    {
        var watch = Stopwatch.StartNew();
        var db = existing ?? await DbFactory.CreateDbContextAsync();
        try
        {
            // The same search the API answers: ids from the filter language, then their rows and values.
            var found = await SearchApi.SearchAsync(db,
                new RunSearchBody([experimentId], filter, order.Length == 0 ? [] : [order], pageSize, tokens[^1]), CancellationToken.None, Cost.Value);
            var list = found.Runs.Select(r => new RunRow(r.Id, r.Name, Enum.Parse<RunStatus>(r.Status), r.CreatedAt, r.Params, r.Tags, r.Metrics, r.Compute)).ToList();
            loadError = null;
            return new RunPage(PageKey, list, found.NextPageToken, found.Total, watch.Elapsed.TotalMilliseconds, DefaultColumnsOf(list));
        }
        catch (PortalException ex)
        {
            // Only a hand-edited link gets here (the box checks a filter before it navigates).
            loadError = ex.Sentence();
            return new RunPage(PageKey, [], null, 0, watch.Elapsed.TotalMilliseconds, []);
        }
        finally
        {
            if (existing is null) await db.DisposeAsync();
        }
    }

    private void Apply(RunPage page)
    {
        rows = page.Rows;
        nextToken = page.NextToken;
        total = page.Total;
        queryMs = page.Ms;
        loadedOnce = true;
    }

    /// <summary>The grid's reader: the pending page when it answers the current query and cursor, else a search.</summary>
    private async Task<GridData<RunRow>> LoadServerDataAsync(GridState<RunRow> state, CancellationToken ct)
    {
        var page = pending is { } p && p.Key == PageKey ? p : null;
        pending = null;
        if (page is null)
        {
            loading = true;
            page = await ReadPageAsync();
            loading = false;
        }
        Apply(page);
        // ServerData is a plain delegate: the page's own parts (count, pager) re-render only when told.
        StateHasChanged();
        return new GridData<RunRow> { Items = page.Rows, TotalItems = (int)Math.Min(int.MaxValue, page.Total) };
    }

    // ---- query string ----

    private string LinkFor(int experiment, string? filterValue, string? orderValue, IReadOnlyList<RunColumn>? cols, int size) =>
        Nav.GetUriWithQueryParameters("experiments", new Dictionary<string, object?>
        {
            ["experiment"] = experiment,
            ["filter"] = string.IsNullOrEmpty(filterValue) ? null : filterValue,
            ["order"] = string.IsNullOrEmpty(orderValue) ? null : orderValue,
            ["cols"] = cols is null ? null : RunColumn.Join(cols),
            ["size"] = size == PageSizes[0] ? null : size,
        });

    /// <summary>The absolute address of this screen, for pasting elsewhere.</summary>
    private string CurrentLink => Nav.ToAbsoluteUri(LinkFor(experimentId, filter, order, columns, pageSize)).AbsoluteUri;

    private string ViewLink(SavedView v) => LinkFor(v.ExperimentId, v.Filter, v.OrderBy, v.Columns is null ? null : RunColumn.ParseList(v.Columns), pageSize);

    private void Go(string? filterValue = null, string? orderValue = null, IReadOnlyList<RunColumn>? cols = null, int? size = null) =>
        Nav.NavigateTo(LinkFor(experimentId, filterValue ?? filter, orderValue ?? order, cols ?? columns, size ?? pageSize));

    // ---- actions ----

    private void ApplyFilter()
    {
        // Parsed as typed, so an error's position points into the box as the user sees it.
        var text = filterText.Trim();
        try
        {
            FilterParser.Parse(filterText);
        }
        catch (FilterSyntaxException ex)
        {
            filterError = ex.Sentence();
            return;
        }
        filterError = null;
        if (text == filter) return;
        Go(filterValue: text);
    }

    private void OnFilterKey(KeyboardEventArgs e)
    {
        if (e.Key is "Enter" or "NumpadEnter") ApplyFilter();
    }

    private void ClearFilter()
    {
        filterText = "";
        filterError = null;
        if (filter.Length > 0) Go(filterValue: "");
    }

    private void ChangeExperiment(int id)
    {
        if (id == experimentId) return;
        selected.Clear();
        // Another experiment has other keys: start from its default columns and no filter.
        Nav.NavigateTo(LinkFor(id, null, null, null, pageSize));
    }

    private async Task NewExperimentAsync()
    {
        var dialog = await Dialogs.ShowAsync<NewExperimentDialog>(L["New experiment"],
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true });
        var result = await dialog.Result;
        if (result is not { Canceled: false, Data: ExperimentView created }) return;
        Snackbar.Add(L["Experiment '{0}' created.", created.Name], Severity.Success);
        await using (var db = await DbFactory.CreateDbContextAsync())
            experiments = await LoadExperimentsAsync(db);
        selected.Clear();
        Nav.NavigateTo(LinkFor(created.Id, null, null, null, pageSize));
    }

    /// <summary>A new column sorts descending first for metrics and times (the best or newest on top), ascending for the rest.</summary>
    private void SortBy(string operand, bool descendingFirst)
    {
        var (current, descending) = ParseOrder(order);
        var next = current == operand ? !descending : descendingFirst;
        Go(orderValue: $"{operand} {(next ? "DESC" : "ASC")}");
    }

    private static (string Operand, bool Descending) ParseOrder(string text)
    {
        var t = text.Trim();
        if (t.Length == 0) return ("attributes.id", true);
        if (t.EndsWith(" desc", StringComparison.OrdinalIgnoreCase)) return (t[..^5].Trim(), true);
        if (t.EndsWith(" asc", StringComparison.OrdinalIgnoreCase)) return (t[..^4].Trim(), false);
        return (t, false);
    }

    private string SortMark(string operand)
    {
        var (current, descending) = ParseOrder(order);
        return current == operand ? (descending ? "▼" : "▲") : "";
    }

    private async Task NextPageAsync()
    {
        if (nextToken is null || grid is null) return;
        tokens.Add(nextToken);
        await grid.ReloadServerData();
    }

    private async Task PreviousPageAsync()
    {
        if (tokens.Count <= 1 || grid is null) return;
        tokens.RemoveAt(tokens.Count - 1);
        await grid.ReloadServerData();
    }

    private async Task ToggleColumnPickerAsync()
    {
        showColumnPicker = !showColumnPicker;
        if (showColumnPicker && (metricKeys is null || paramKeys is null))
        {
            // Every key of the experiment: a scan of its params and latest values, so only when asked for.
            await using var db = await DbFactory.CreateDbContextAsync();
            metricKeys = await TrackingStore.MetricKeysAsync(db, [experimentId], CancellationToken.None);
            paramKeys = await TrackingStore.ParamKeysAsync(db, [experimentId], CancellationToken.None);
        }
    }

    private void ToggleColumn(RunColumn column, bool on)
    {
        var next = columns.Where(c => c != column).ToList();
        if (on) next.Add(column);
        Go(cols: next);
    }

    private void ToggleSelected(int id, bool on)
    {
        if (on) selected.Add(id);
        else selected.Remove(id);
    }

    private void TogglePage(bool on)
    {
        foreach (var r in rows)
        {
            if (on) selected.Add(r.Id);
            else selected.Remove(r.Id);
        }
    }

    private bool PageSelected => rows.Count > 0 && rows.All(r => selected.Contains(r.Id));

    private bool CanCompare => selected.Count is >= 2 and <= MaxCompare;

    private void Compare() => Nav.NavigateTo($"compare?runs={string.Join(',', selected.Order())}");

    /// <summary>A saved view is the experiment's: writing one needs an Editor in the experiment's team (as PATCH experiments/{id}).</summary>
    private async Task<bool> MayWriteViewsAsync()
    {
        try
        {
            await using var scope = Scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            var team = await db.Experiments.Where(x => x.Id == experimentId && x.DeletedAt == null).Select(x => (int?)x.TeamId).FirstOrDefaultAsync()
                ?? throw PortalException.NotFound($"Experiment {experimentId}");
            await scope.ServiceProvider.GetRequiredService<Identity.Access>().RequireAsync(team, Identity.TeamRole.Editor, $"Experiment {experimentId}");
            return true;
        }
        catch (PortalException ex)
        {
            viewProblem = ex.Localized(CultureInfo.CurrentUICulture);
            return false;
        }
    }

    public async Task SaveViewAsync()
    {
        var name = viewName.Trim();
        if (name.Length is 0 or > 100)
        {
            viewProblem = L["A view needs a name of 1 to 100 characters."];
            return;
        }
        viewProblem = null;
        if (!await MayWriteViewsAsync()) return;
        await using var db = await DbFactory.CreateDbContextAsync();
        var existing = await db.SavedViews.FirstOrDefaultAsync(v => v.ExperimentId == experimentId && v.Name == name);
        var view = existing ?? new SavedView { ExperimentId = experimentId, Name = name, CreatedBy = User.Name, CreatedAt = DateTime.UtcNow };
        view.Filter = filter.Length == 0 ? null : filter;
        view.OrderBy = order.Length == 0 ? null : order;
        view.Columns = RunColumn.Join(columns);
        if (existing is null) db.SavedViews.Add(view);
        await db.SaveChangesAsync();
        savedViews = await LoadViewsAsync(db);
        Snackbar.Add(existing is null ? L["Saved view '{0}'.", name] : L["Updated view '{0}'.", name], Severity.Success);
        viewName = "";
    }

    public async Task DeleteViewAsync(SavedView target)
    {
        viewProblem = null;
        if (!await MayWriteViewsAsync()) return;
        var confirmed = await Dialogs.ShowMessageBoxAsync(L["Delete view"], L["Delete the saved view '{0}'? The runs are not affected.", target.Name],
            yesText: L["Delete"], cancelText: S["Cancel"]);
        if (confirmed != true) return;
        if (!await MayWriteViewsAsync()) return;
        await using var db = await DbFactory.CreateDbContextAsync();
        if (await db.SavedViews.FindAsync(target.Id) is { } view && view.ExperimentId == experimentId)
        {
            db.SavedViews.Remove(view);
            await db.SaveChangesAsync();
        }
        savedViews = await LoadViewsAsync(db);
        Snackbar.Add(L["Deleted view '{0}'.", target.Name], Severity.Info);
    }

    private static string Value(RunRow row, RunColumn column) => column.Prefix switch
    {
        RunColumn.Metrics => row.Metrics.TryGetValue(column.Key, out var m) ? Fmt.Metric(m) : "—",
        RunColumn.Params => row.Params.TryGetValue(column.Key, out var p) ? p : "—",
        _ => row.Tags.TryGetValue(column.Key, out var t) ? t : "—",
    };

    private string RowClass(RunRow row, int index) => selected.Contains(row.Id) ? "run-row selected" : "run-row";

    private string ExperimentLabel(int id) =>
        experiments?.FirstOrDefault(x => x.Id == id) is { } x ? $"{x.Name} ({Fmt.Int(x.RunCount)})" : "";

    private static string PrefixMark(string prefix) => prefix == RunColumn.Metrics ? "m" : prefix == RunColumn.Params ? "p" : "t";
}
