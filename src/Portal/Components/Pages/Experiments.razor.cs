using System.Diagnostics;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Components.Shared;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;
using ModelOps.Portal.Tracking.Query;

namespace ModelOps.Portal.Components.Pages;

/// <summary>
/// The runs of one experiment, searched with the filter language and paged by cursor on the server, so the
/// page reads one page of rows whatever the experiment's size. The query string is the page's state
/// (experiment, filter, order, columns, page size): every change navigates, so any screen is a link.
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

    [SupplyParameterFromQuery(Name = "experiment")] public int? ExperimentParam { get; set; }
    [SupplyParameterFromQuery(Name = "filter")] public string? FilterParam { get; set; }
    [SupplyParameterFromQuery(Name = "order")] public string? OrderParam { get; set; }
    [SupplyParameterFromQuery(Name = "cols")] public string? ColumnsParam { get; set; }
    [SupplyParameterFromQuery(Name = "size")] public int? SizeParam { get; set; }

    public sealed record ExperimentOption(int Id, string Name, int RunCount)
    {
        public string Label => $"{Name} ({RunCount:N0})";
    }

    public sealed record RunRow(int Id, string Name, RunStatus Status, DateTime CreatedAt,
        IReadOnlyDictionary<string, string> Params, IReadOnlyDictionary<string, string> Tags, IReadOnlyDictionary<string, double> Metrics);

    private List<ExperimentOption> experiments = [];
    private int experimentId;
    private string filter = "";
    private string order = "";
    private List<RunColumn> columns = [];
    private int pageSize = PageSizes[0];

    private List<string> metricKeys = [];
    private List<string> paramKeys = [];
    private List<SavedView> savedViews = [];

    // Cursor paging: tokens[i] opens page i (tokens[0] is null); Previous pops, Next pushes.
    private readonly List<string?> tokens = [null];
    private string? nextToken;
    private IReadOnlyList<RunRow> rows = [];
    private long total;
    private double queryMs;
    private bool loading;

    private string filterText = "";
    private string? filterError;
    private string? loadError;
    private readonly HashSet<int> selected = [];
    private string viewName = "";
    private string? viewMessage;
    private bool showLink;
    private bool showColumnPicker;
    private string stateKey = "";
    private int loadedExperiment = -1;

    private int PageIndex => tokens.Count - 1;

    protected override async Task OnParametersSetAsync()
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        if (experiments.Count == 0) experiments = await LoadExperimentsAsync(db);

        experimentId = ExperimentParam is { } e && experiments.Any(x => x.Id == e) ? e
            : experiments.Any(x => x.Id == Experiment.DefaultId) ? Experiment.DefaultId
            : experiments.FirstOrDefault()?.Id ?? Experiment.DefaultId;
        filter = (FilterParam ?? "").Trim();
        order = (OrderParam ?? "").Trim();
        pageSize = SizeParam is { } s && PageSizes.Contains(s) ? s : PageSizes[0];

        if (experimentId != loadedExperiment)
        {
            metricKeys = await TrackingStore.MetricKeysAsync(db, [experimentId], CancellationToken.None);
            paramKeys = await TrackingStore.ParamKeysAsync(db, [experimentId], CancellationToken.None);
            savedViews = await LoadViewsAsync(db);
            loadedExperiment = experimentId;
        }
        columns = ColumnsParam is null ? DefaultColumns() : RunColumn.ParseList(ColumnsParam);

        var key = $"{experimentId}\n{filter}\n{order}\n{pageSize}";
        if (key != stateKey)
        {
            // A different query: its page tokens mean nothing to the new one.
            stateKey = key;
            filterText = filter;
            filterError = null;
            tokens.Clear();
            tokens.Add(null);
            await LoadPageAsync(db);
        }
    }

    private async Task<List<ExperimentOption>> LoadExperimentsAsync(PortalDb db)
    {
        var counts = await db.Runs.AsNoTracking().Where(r => r.DeletedAt == null)
            .GroupBy(r => r.ExperimentId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count);
        var list = await db.Experiments.AsNoTracking().Where(x => x.DeletedAt == null).OrderBy(x => x.Name)
            .Select(x => new { x.Id, x.Name }).ToListAsync();
        return list.Select(x => new ExperimentOption(x.Id, x.Name, counts.GetValueOrDefault(x.Id))).ToList();
    }

    private Task<List<SavedView>> LoadViewsAsync(PortalDb db) =>
        db.SavedViews.AsNoTracking().Where(v => v.ExperimentId == experimentId).OrderBy(v => v.Name).ToListAsync();

    private List<RunColumn> DefaultColumns()
    {
        var metrics = PreferredMetrics.Where(metricKeys.Contains).Take(3).ToList();
        if (metrics.Count == 0) metrics = metricKeys.Take(3).ToList();
        var parameters = PreferredParams.Where(paramKeys.Contains).Take(3).ToList();
        if (parameters.Count == 0) parameters = paramKeys.Take(3).ToList();
        return [.. metrics.Select(k => new RunColumn(RunColumn.Metrics, k)), .. parameters.Select(k => new RunColumn(RunColumn.Params, k))];
    }

    /// <summary>Reads the page that <c>tokens[^1]</c> opens.</summary>
    private async Task LoadPageAsync(PortalDb? existing = null)
    {
        loading = true;
        loadError = null;
        var watch = Stopwatch.StartNew();
        var db = existing ?? await DbFactory.CreateDbContextAsync();
        try
        {
            // The same search the API answers: ids from the filter language, then their rows and values.
            var page = await SearchApi.SearchAsync(db,
                new RunSearchBody([experimentId], filter, order.Length == 0 ? [] : [order], pageSize, tokens[^1]), CancellationToken.None);
            rows = page.Runs.Select(r => new RunRow(r.Id, r.Name, Enum.Parse<RunStatus>(r.Status), r.CreatedAt, r.Params, r.Tags, r.Metrics)).ToList();
            nextToken = page.NextPageToken;
            total = page.Total;
        }
        catch (PortalException ex)
        {
            // Only a hand-edited link gets here (the box checks a filter before it navigates).
            SetQueryError(ex.Message);
        }
        finally
        {
            if (existing is null) await db.DisposeAsync();
            queryMs = watch.Elapsed.TotalMilliseconds;
            loading = false;
        }
    }

    private void SetQueryError(string message)
    {
        loadError = message;
        rows = [];
        nextToken = null;
        total = 0;
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

    private void Go(string? filterValue = null, string? orderValue = null, IReadOnlyList<RunColumn>? cols = null, int? size = null, int? experiment = null) =>
        Nav.NavigateTo(LinkFor(experiment ?? experimentId, filterValue ?? filter, orderValue ?? order, cols ?? columns, size ?? pageSize));

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
            filterError = ex.Message;
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
        selected.Clear();
        // Another experiment has other keys: start from its default columns and no filter.
        Nav.NavigateTo(LinkFor(id, null, null, null, pageSize));
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

    private string AriaSort(string operand)
    {
        var (current, descending) = ParseOrder(order);
        return current == operand ? (descending ? "descending" : "ascending") : "none";
    }

    private async Task NextPageAsync()
    {
        if (nextToken is null) return;
        tokens.Add(nextToken);
        await LoadPageAsync();
    }

    private async Task PreviousPageAsync()
    {
        if (tokens.Count <= 1) return;
        tokens.RemoveAt(tokens.Count - 1);
        await LoadPageAsync();
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

    private bool CanCompare => selected.Count is >= 2 and <= MaxCompare;

    private void Compare() => Nav.NavigateTo($"compare?runs={string.Join(',', selected.Order())}");

    private async Task SaveViewAsync()
    {
        var name = viewName.Trim();
        if (name.Length is 0 or > 100)
        {
            viewMessage = "A view needs a name of 1 to 100 characters.";
            return;
        }
        await using var db = await DbFactory.CreateDbContextAsync();
        var existing = await db.SavedViews.FirstOrDefaultAsync(v => v.ExperimentId == experimentId && v.Name == name);
        var view = existing ?? new SavedView { ExperimentId = experimentId, Name = name, CreatedBy = User.Name, CreatedAt = DateTime.UtcNow };
        view.Filter = filter.Length == 0 ? null : filter;
        view.OrderBy = order.Length == 0 ? null : order;
        view.Columns = RunColumn.Join(columns);
        if (existing is null) db.SavedViews.Add(view);
        await db.SaveChangesAsync();
        savedViews = await LoadViewsAsync(db);
        viewMessage = existing is null ? $"Saved view '{name}'." : $"Updated view '{name}'.";
        viewName = "";
    }

    private async Task DeleteViewAsync(int id)
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        if (await db.SavedViews.FindAsync(id) is { } view)
        {
            db.SavedViews.Remove(view);
            await db.SaveChangesAsync();
        }
        savedViews = await LoadViewsAsync(db);
    }

    private static string Value(RunRow row, RunColumn column) => column.Prefix switch
    {
        RunColumn.Metrics => row.Metrics.TryGetValue(column.Key, out var m) ? Ui.Number(m, "0.####") : "—",
        RunColumn.Params => row.Params.TryGetValue(column.Key, out var p) ? p : "—",
        _ => row.Tags.TryGetValue(column.Key, out var t) ? t : "—",
    };
}
