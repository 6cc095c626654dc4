using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Localization;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Shell;
using MudBlazor;

namespace ModelOps.Portal.Audit;

/// <summary>
/// The Audit page: every audited write, filtered by person, resource, action and dates (each filter applies when
/// it changes), paged and ordered in SQL, with the count of matching events and a CSV export of the same filter.
/// </summary>
public partial class AuditPage
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private IStringLocalizer<AuditText> L { get; set; } = default!;

    private MudDataGrid<AuditRow>? grid;
    private string? person;
    private string? resource;
    private string? action;
    private DateTime? from;
    private DateTime? to;
    private int total;
    private string? error;


    /// <summary>
    /// The teams whose events this user may see: null means every event. The seam for sign-in and teams, the
    /// page's twin of <see cref="AuditApi.AuditScope"/>: the integrator replaces this one method.
    /// </summary>
    protected virtual async Task<IReadOnlyCollection<int>?> AuditScopeAsync()
    {
        await using var scope = Scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Identity.Access>().AuditScopeAsync();
    }

    private AuditFilter Filter(IReadOnlyCollection<int>? teams) => new(person, resource, action, Utc(from), Utc(to), teams);

    /// <summary>GET /api/v1/audit/export.csv with the filters as they are now.</summary>
    private string ExportHref
    {
        get
        {
            var query = new List<string>();
            void Add(string key, string? value)
            {
                if (!string.IsNullOrWhiteSpace(value)) query.Add(key + "=" + Uri.EscapeDataString(value.Trim()));
            }
            Add("person", person);
            Add("resource", resource);
            Add("action", action);
            Add("from", from?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            Add("to", to?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            return "/api/v1/audit/export.csv" + (query.Count == 0 ? "" : "?" + string.Join("&", query));
        }
    }

    /// <summary>One filter changed: check the whole filter, then read the first page again.</summary>
    private async Task SetAsync(Action change)
    {
        change();
        error = null;
        try
        {
            AuditQuery.Validate(Filter(null));
        }
        catch (PortalException e)
        {
            error = e.Localized(CultureInfo.CurrentUICulture);
            return;
        }
        if (grid is not null) await grid.ReloadServerData();
    }

    /// <summary>The grid's reader: one page, filtered, ordered and paged in SQL.</summary>
    private async Task<GridData<AuditRow>> LoadAsync(GridState<AuditRow> state, CancellationToken ct)
    {
        var sort = state.SortDefinitions.FirstOrDefault();
        var order = sort?.SortBy switch
        {
            nameof(AuditRow.Actor) => AuditOrder.Actor,
            nameof(AuditRow.Action) => AuditOrder.Action,
            nameof(AuditRow.Subject) => AuditOrder.Resource,
            _ => AuditOrder.At,
        };
        try
        {
            var filter = Filter(await AuditScopeAsync());
            using var scope = Scopes.CreateScope();
            var (rows, count) = await scope.ServiceProvider.GetRequiredService<AuditQuery>()
                .PageAsync(filter, state.Page * state.PageSize, state.PageSize, order, sort?.Descending ?? true, ct);
            total = count;
            return new GridData<AuditRow> { Items = rows, TotalItems = count };
        }
        catch (PortalException e)
        {
            error = e.Localized(CultureInfo.CurrentUICulture);
            total = 0;
            return new GridData<AuditRow> { Items = [], TotalItems = 0 };
        }
    }

    /// <summary>The picker's date is a calendar day; the trail is in UTC, so the day is read as a UTC day.</summary>
    private static DateTime? Utc(DateTime? day) => day is { } d ? DateTime.SpecifyKind(d.Date, DateTimeKind.Utc) : null;
}
