using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking.Query;

namespace ModelOps.Portal.Tracking;

public sealed record RunSearchBody(
    IReadOnlyList<int>? ExperimentIds = null, string? Filter = null, IReadOnlyList<string>? OrderBy = null,
    int MaxResults = 50, string? PageToken = null);

public sealed record RunSearchResult(IReadOnlyList<RunSummary> Runs, string? NextPageToken, long Total);

/// <summary>POST/GET runs/search: the filter language (docs/tracking.md) with keyset paging.</summary>
public static class SearchApi
{
    public static RouteGroupBuilder MapSearchApi(this RouteGroupBuilder api)
    {
        api.MapPost("/runs/search", (RunSearchBody body, HttpContext http, PortalDb db, IOptions<CostOptions> cost, CancellationToken ct) =>
            SearchAsync(body, http, db, cost.Value, ct)).WithTags("Runs");
        api.MapGet("/runs/search", (HttpContext http, PortalDb db, IOptions<CostOptions> cost, int[]? experimentIds, string? filter, string[]? orderBy, int? maxResults, string? pageToken, CancellationToken ct) =>
            SearchAsync(new RunSearchBody(experimentIds, filter, orderBy, maxResults ?? 50, pageToken), http, db, cost.Value, ct)).WithTags("Runs");
        return api;
    }

    public static async Task<RunSearchResult> SearchAsync(RunSearchBody body, HttpContext http, PortalDb db, CostOptions prices, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var result = await SearchAsync(db, body, ct, prices);
        // Lets a benchmark (or a curious engineer) tell server time from network time.
        http.Response.Headers["Server-Timing"] = $"search;dur={clock.Elapsed.TotalMilliseconds:0.0}";
        return result;
    }

    /// <summary>
    /// The search the API and the Experiments page share: ids in order, then the rows for them. <paramref name="prices"/>
    /// price <c>attributes.cost</c> (sort and filter) and each run's compute; without them the defaults apply.
    /// </summary>
    public static async Task<RunSearchResult> SearchAsync(PortalDb db, RunSearchBody body, CancellationToken ct, CostOptions? prices = null)
    {
        prices ??= new CostOptions();
        RunSearchPage page;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            page = await RunSearch.ExecuteAsync(db.Database.GetDbConnection(),
                new RunSearchRequest(body.ExperimentIds ?? [], body.Filter, body.OrderBy ?? [], body.MaxResults, body.PageToken) { Prices = prices }, ct);
        }
        catch (FilterSyntaxException e)
        {
            throw PortalException.Invalid(ErrorMessage.Raw(e.Message), e.Field ?? "filter");
        }
        catch (InvalidPageTokenException e)
        {
            throw PortalException.Invalid(ErrorMessage.Raw(e.Message), "pageToken");
        }
        catch (ArgumentException e)
        {
            throw PortalException.Invalid(ErrorMessage.Raw(e.Message.Split(" (Parameter")[0]), e.ParamName);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        var ids = page.RunIds;
        var rows = await RunsApi.Project(db.Runs.AsNoTracking().Where(r => ids.Contains(r.Id))).ToListAsync(ct);
        var byId = rows.ToDictionary(r => r.Id);
        var ordered = ids.Where(byId.ContainsKey).Select(id => byId[id]).ToList();
        return new RunSearchResult((await RunsApi.HydrateAsync(db, ordered, ct)).Select(r => RunsApi.WithCost(r, prices)).ToList(), page.NextPageToken, page.Total);
    }
}
