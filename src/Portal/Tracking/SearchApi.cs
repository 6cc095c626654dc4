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
        api.MapPost("/runs/search", async (RunSearchBody body, HttpContext http, PortalDb db, IOptions<CostOptions> cost, Identity.Access access, CancellationToken ct) =>
            await SearchAsync(await ReadableAsync(body, db, access, ct), http, db, cost.Value, ct)).WithTags("Runs");
        api.MapGet("/runs/search", async (HttpContext http, PortalDb db, IOptions<CostOptions> cost, Identity.Access access, int[]? experimentIds, string? filter, string[]? orderBy, int? maxResults, string? pageToken, CancellationToken ct) =>
            await SearchAsync(await ReadableAsync(new RunSearchBody(experimentIds, filter, orderBy, maxResults ?? 50, pageToken), db, access, ct), http, db, cost.Value, ct)).WithTags("Runs");
        return api;
    }

    /// <summary>
    /// The search within what the caller reads: the experiments it names must all be in the caller's teams
    /// (another team's answers 404); naming none means every experiment of those teams.
    /// </summary>
    public static async Task<RunSearchBody> ReadableAsync(RunSearchBody body, PortalDb db, Identity.Access access, CancellationToken ct)
    {
        var teams = await access.ListTeamsAsync(ct);
        var readable = await db.Experiments.Where(e => teams.Contains(e.TeamId)).Select(e => e.Id).ToListAsync(ct);
        if (body.ExperimentIds is { Count: > 0 } named)
        {
            foreach (var id in named)
                if (!readable.Contains(id)) throw PortalException.NotFound($"Experiment {id}");
            return body;
        }
        // An empty list would mean every experiment; -1 matches none when the caller reads no team.
        return body with { ExperimentIds = readable.Count > 0 ? readable : [-1] };
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
