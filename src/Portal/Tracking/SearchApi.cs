using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
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
        api.MapPost("/runs/search", (RunSearchBody body, HttpContext http, PortalDb db, CancellationToken ct) => SearchAsync(body, http, db, ct)).WithTags("Runs");
        api.MapGet("/runs/search", (HttpContext http, PortalDb db, int[]? experimentIds, string? filter, string[]? orderBy, int? maxResults, string? pageToken, CancellationToken ct) =>
            SearchAsync(new RunSearchBody(experimentIds, filter, orderBy, maxResults ?? 50, pageToken), http, db, ct)).WithTags("Runs");
        return api;
    }

    public static async Task<RunSearchResult> SearchAsync(RunSearchBody body, HttpContext http, PortalDb db, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var result = await SearchAsync(db, body, ct);
        // Lets a benchmark (or a curious engineer) tell server time from network time.
        http.Response.Headers["Server-Timing"] = $"search;dur={clock.Elapsed.TotalMilliseconds:0.0}";
        return result;
    }

    /// <summary>The search the API and the Experiments page share: ids in order, then the rows for them.</summary>
    public static async Task<RunSearchResult> SearchAsync(PortalDb db, RunSearchBody body, CancellationToken ct)
    {
        RunSearchPage page;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            page = await RunSearch.ExecuteAsync(db.Database.GetDbConnection(),
                new RunSearchRequest(body.ExperimentIds ?? [], body.Filter, body.OrderBy ?? [], body.MaxResults, body.PageToken), ct);
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
        return new RunSearchResult(await RunsApi.HydrateAsync(db, ordered, ct), page.NextPageToken, page.Total);
    }
}
