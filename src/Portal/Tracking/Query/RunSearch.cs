using System.Data;
using System.Data.Common;
using System.Globalization;

namespace ModelOps.Portal.Tracking.Query;

/// <summary>
/// A run search. <paramref name="ExperimentIds"/> empty means every experiment; <paramref name="Filter"/> is
/// the filter language of docs/tracking.md (null or blank: every run); <paramref name="OrderBy"/> entries are
/// <c>&lt;operand&gt; [ASC|DESC]</c> (empty: <c>attributes.id DESC</c>); <paramref name="MaxResults"/> is 1–1,000;
/// <paramref name="PageToken"/> is the previous page's <see cref="RunSearchPage.NextPageToken"/>, or null.
/// </summary>
public sealed record RunSearchRequest(IReadOnlyList<int> ExperimentIds, string? Filter, IReadOnlyList<string> OrderBy, int MaxResults, string? PageToken)
{
    /// <summary>The prices <c>attributes.cost</c> is worked out with (null: the defaults of <see cref="Runs.CostOptions"/>).</summary>
    public Runs.CostOptions? Prices { get; init; }
}

/// <summary>A page of run ids in order; <paramref name="NextPageToken"/> is null on the last page;
/// <paramref name="Total"/> counts every run the query matches, on all pages.</summary>
public sealed record RunSearchPage(IReadOnlyList<int> RunIds, string? NextPageToken, long Total);

/// <summary>
/// Finds runs by the filter language, in order, a keyset page at a time. Soft-deleted runs and the runs of
/// soft-deleted experiments are never found.
///
/// <para>Ordering: runs without the value come last in either direction; ties break on id, newest first.
/// Status and kind sort by their codes (Queued, Running, Finished, Failed, Cancelled; training, tracked),
/// text by its bytes (BINARY), times by time. A param sorts its numeric values first (by number), then its
/// other values (by text), then the runs without it; the direction applies within each group.</para>
///
/// <para>Errors: <see cref="FilterSyntaxException"/> for the filter and the order; <see cref="InvalidPageTokenException"/>
/// for a token that is malformed or from another query; <see cref="ArgumentOutOfRangeException"/> for a
/// <c>MaxResults</c> outside 1–1,000 (it is not clamped, so a client learns its mistake);
/// <see cref="ArgumentException"/> for more than 1,000 experiment ids. Each message is a plain sentence.</para>
/// </summary>
public static class RunSearch
{
    public const int MaxResultsLimit = 1_000;
    public const int MaxOrderTerms = 10;
    public const int MaxExperimentIds = 1_000;

    private static readonly OrderTerm DefaultOrder = new(new Operand(OperandKind.Attribute, "id", 1), Descending: true);

    /// <summary>
    /// Validates the request, then runs two queries on <paramref name="connection"/> (opened here if it is
    /// closed): the page of ids and a COUNT of all matches. They are not in one transaction (the caller's
    /// connection may hold one), so a write that lands between them can leave the total off by that write.
    /// </summary>
    public static async Task<RunSearchPage> ExecuteAsync(DbConnection connection, RunSearchRequest request, CancellationToken ct)
    {
        var search = Compile(request);
        var opened = connection.State == ConnectionState.Closed;
        if (opened) await connection.OpenAsync(ct);
        try
        {
            var idColumn = search.Columns.FindIndex(c => c.Sql == "r.Id");
            var ids = new List<int>(Math.Min(request.MaxResults, 100));
            object?[]? last = null;
            var more = false;
            await using (var page = Command(connection, search.PageSql, search.Parameters))
            await using (var reader = await page.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    if (ids.Count == request.MaxResults)
                    {
                        more = true;
                        break;
                    }
                    ids.Add(checked((int)reader.GetInt64(idColumn)));
                    last = new object?[search.Columns.Count];
                    for (var i = 0; i < last.Length; i++) last[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }
            }
            long total;
            await using (var count = Command(connection, search.CountSql, search.Parameters))
            {
                total = Convert.ToInt64(await count.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            }
            return new RunSearchPage(ids, more && last is not null ? PageToken.Encode(search.QueryHash, last) : null, total);
        }
        finally
        {
            if (opened) await connection.CloseAsync();
        }
    }

    /// <summary>Validates a request and builds its two queries (tests and benchmarks EXPLAIN them).</summary>
    internal static CompiledSearch Compile(RunSearchRequest request)
    {
        if (request.MaxResults is < 1 or > MaxResultsLimit)
        {
            throw new ArgumentOutOfRangeException(null, $"maxResults must be between 1 and {MaxResultsLimit:N0}; it was {request.MaxResults}.");
        }
        var experimentIds = request.ExperimentIds.Distinct().Order().ToList();
        if (experimentIds.Count > MaxExperimentIds) throw new ArgumentException($"A search takes at most {MaxExperimentIds:N0} experiment ids.");

        var filter = FilterParser.Parse(request.Filter);
        var order = ParseOrder(request.OrderBy);
        var sql = new RunSearchSql(request.Prices);
        var where = new List<string> { "r.DeletedAt IS NULL", "e.DeletedAt IS NULL" };
        if (experimentIds.Count > 0)
        {
            where.Add($"r.ExperimentId IN ({string.Join(", ", experimentIds.Select(id => sql.Parameter((long)id)))})");
        }
        if (sql.CompileFilter(filter) is { } filterSql) where.Add(filterSql);
        var countWhere = where.ToList();
        var columns = sql.CompileOrder(order);

        var queryHash = PageToken.QueryHash(experimentIds, filter, order);
        if (!string.IsNullOrEmpty(request.PageToken))
        {
            where.Add(sql.Keyset(columns, PageToken.Decode(request.PageToken, queryHash, columns.Count)));
        }

        const string from = "FROM runs r JOIN experiments e ON e.Id = r.ExperimentId";
        var pageSql = $"""
            SELECT {string.Join(", ", columns.Select(c => c.Sql))}
            {from}
            {string.Join("\n", sql.Joins)}
            WHERE {string.Join("\n  AND ", where)}
            ORDER BY {string.Join(", ", columns.Select(c => c.Sql + (c.Descending ? " DESC" : "")))}
            LIMIT {sql.Parameter((long)request.MaxResults + 1)}
            """;
        var countSql = $"""
            SELECT COUNT(*)
            {from}
            {string.Join("\n", sql.Joins.Take(sql.FilterJoinCount))}
            WHERE {string.Join("\n  AND ", countWhere)}
            """;
        return new CompiledSearch(pageSql, countSql, sql.Parameters, columns, queryHash);
    }

    internal static IReadOnlyList<OrderTerm> ParseOrder(IReadOnlyList<string> orderBy)
    {
        if (orderBy.Count == 0) return [DefaultOrder];
        if (orderBy.Count > MaxOrderTerms)
        {
            throw new FilterSyntaxException(1, $"a search orders by at most {MaxOrderTerms} columns; this one has {orderBy.Count}.", $"orderBy[{MaxOrderTerms}]");
        }
        return orderBy.Select((entry, i) => FilterParser.ParseOrderBy(entry ?? "", i)).ToList();
    }

    private static DbCommand Command(DbConnection connection, string text, IEnumerable<KeyValuePair<string, object>> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = text;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}

/// <summary>A validated search: the page query, the count query, their parameters, the sort tuple.</summary>
internal sealed record CompiledSearch(string PageSql, string CountSql, IReadOnlyList<KeyValuePair<string, object>> Parameters,
    List<SortColumn> Columns, string QueryHash);
