using System.Globalization;
using System.Text;
using ModelOps.Portal.Tracking.Query;

namespace ModelOps.Portal.Tests.Tracking;

/// <summary>Keyset paging over runs full of ties and missing values.</summary>
public sealed class RunSearchPagingTests : IDisposable
{
    private sealed record Seeded(int Id, double? Score, double? NumP, string? TextP, string? Tag, string? EndedAt);

    private readonly TrackingDatabase _db = new();
    private readonly int _experiment;
    private readonly List<Seeded> _runs = [];

    public RunSearchPagingTests()
    {
        _experiment = _db.Experiment("Paging");
        for (var i = 1; i <= 60; i++) _runs.Add(AddRun(i));
    }

    /// <summary>score: five values, missing for every 7th; p: a number, a text or missing; g: three values or missing.</summary>
    private Seeded AddRun(int i)
    {
        var endedAt = i % 2 == 0 ? null : $"2026-11-{1 + i % 9:00} 10:00:00";
        var id = _db.Run(_experiment, $"run {i}", status: i % 5, endedAt: endedAt);
        double? score = i % 7 == 0 ? null : i % 5 * 0.25;
        if (score is { } s) _db.Metric(id, "score", s);
        double? numP = i % 3 == 1 ? i % 4 : null;
        string? textP = i % 3 == 2 ? "t" + i % 2 : numP?.ToString(CultureInfo.InvariantCulture);
        if (textP is not null) _db.Param(id, "p", textP);
        var tag = i % 4 == 0 ? null : "g" + i % 3;
        if (tag is not null) _db.Tag(id, "g", tag);
        return new Seeded(id, score, numP, textP, tag, endedAt);
    }

    private async Task<List<int>> PageThrough(string? filter, string[] orderBy, int pageSize, Func<int, Task>? betweenPages = null)
    {
        var ids = new List<int>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await _db.Search(new RunSearchRequest([_experiment], filter, orderBy, pageSize, token));
            Assert.True(page.RunIds.Count <= pageSize);
            Assert.True(page.NextPageToken is null || page.RunIds.Count == pageSize);
            ids.AddRange(page.RunIds);
            token = page.NextPageToken;
            if (betweenPages is not null) await betweenPages(++pages);
            Assert.True(pages < 1_000);
        }
        while (token is not null);
        return ids;
    }

    public static TheoryData<string[], int> Orders()
    {
        var data = new TheoryData<string[], int>();
        string[][] orders =
        [
            [], ["metrics.score DESC"], ["metrics.score ASC"], ["params.p ASC"], ["params.p DESC"],
            ["tags.g DESC", "metrics.score ASC"], ["ended_at ASC"], ["status", "params.p DESC", "metrics.score"], ["name"],
        ];
        foreach (var order in orders)
        {
            foreach (var size in new[] { 1, 4, 7, 60 }) data.Add(order, size);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task PagingThroughAllPages_YieldsEveryRunOnceInOrder(string[] orderBy, int pageSize)
    {
        var all = await _db.Search(new RunSearchRequest([_experiment], null, orderBy, 1_000, null));
        Assert.Equal(60, all.RunIds.Count);
        Assert.Null(all.NextPageToken);
        Assert.Equal(all.RunIds, await PageThrough(null, orderBy, pageSize));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(13)]
    public async Task PagingWithAFilter_YieldsExactlyTheMatchesInOrder(int pageSize)
    {
        var expected = _runs.Where(r => r.Score > 0.2 || r.Tag is null)
            .OrderBy(r => r.Score is null).ThenByDescending(r => r.Score).ThenByDescending(r => r.Id).Select(r => r.Id).ToList();
        Assert.Equal(expected, await PageThrough("metrics.score > 0.2 or tags.g is null", ["metrics.score DESC"], pageSize));
        var first = await _db.Search(new RunSearchRequest([_experiment], "metrics.score > 0.2 or tags.g is null", ["metrics.score DESC"], pageSize, null));
        Assert.Equal(expected.Count, first.Total);
    }

    [Fact]
    public async Task MetricOrder_MatchesAnIndependentSort()
    {
        var expected = _runs.OrderBy(r => r.Score is null).ThenBy(r => r.Score).ThenByDescending(r => r.Id).Select(r => r.Id);
        Assert.Equal(expected, await PageThrough(null, ["metrics.score ASC"], 6));
    }

    [Fact]
    public async Task ParamOrder_MatchesAnIndependentSort_NumbersThenTextsThenMissing()
    {
        var expected = _runs
            .OrderBy(r => r.TextP is null).ThenBy(r => r.NumP is null)
            .ThenByDescending(r => r.NumP).ThenByDescending(r => r.TextP, StringComparer.Ordinal).ThenByDescending(r => r.Id)
            .Select(r => r.Id);
        Assert.Equal(expected, await PageThrough(null, ["params.p DESC"], 8));
    }

    [Fact]
    public async Task RunsAddedWhilePaging_DoNotShiftPages()
    {
        var before = (await _db.Search(new RunSearchRequest([_experiment], null, ["metrics.score DESC"], 1_000, null))).RunIds.ToList();
        var added = new List<int>();
        var seen = await PageThrough(null, ["metrics.score DESC"], 4, async page =>
        {
            if (page != 2) return;
            // Sorts before everything (already paged past), ties the top score with a newer id (also
            // before the cursor), and has no score (after the cursor: it must show up, once).
            var top = _db.Run(_experiment, "top");
            _db.Metric(top, "score", 5.0);
            var tie = _db.Run(_experiment, "tie");
            _db.Metric(tie, "score", 1.0);
            added.Add(_db.Run(_experiment, "no score"));
            await Task.CompletedTask;
        });

        var expected = before.ToList();
        var firstMissing = expected.FindIndex(id => _runs[id - 1].Score is null);
        expected.Insert(firstMissing, added[0]);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task LastPage_HasNoToken_AndTheTotalCountsEveryMatch()
    {
        var first = await _db.Search(new RunSearchRequest([_experiment], "status = 'Queued'", [], 10, null));
        Assert.Equal(12, first.Total);
        Assert.Equal(10, first.RunIds.Count);
        var second = await _db.Search(new RunSearchRequest([_experiment], "status = 'Queued'", [], 10, first.NextPageToken));
        Assert.Equal([10, 5], second.RunIds);
        Assert.Equal(12, second.Total);
        Assert.Null(second.NextPageToken);
    }

    [Fact]
    public async Task ExactlyFullLastPage_HasNoToken()
    {
        var page = await _db.Search(new RunSearchRequest([_experiment], "id <= 10", [], 10, null));
        Assert.Equal(10, page.RunIds.Count);
        Assert.Null(page.NextPageToken);
    }

    [Theory]
    [InlineData("metrics.score > 0.5", new[] { "metrics.score ASC" }, false)]
    [InlineData("metrics.score > 0.25", new[] { "metrics.score DESC" }, false)]
    [InlineData("metrics.score > 0.25", new[] { "metrics.score DESC" }, true)]
    [InlineData(null, new[] { "metrics.score DESC" }, false)]
    public async Task TokenFromAnotherQuery_IsRejected(string? filter, string[] orderBy, bool otherExperiments)
    {
        var first = await _db.Search(new RunSearchRequest([_experiment], "metrics.score > 0.25", ["metrics.score ASC"], 3, null));
        Assert.NotNull(first.NextPageToken);
        var experiments = otherExperiments ? new[] { _experiment, 1 } : [_experiment];
        var e = await Assert.ThrowsAsync<InvalidPageTokenException>(() =>
            _db.Search(new RunSearchRequest(experiments, filter, orderBy, 3, first.NextPageToken)));
        Assert.Equal("The page token belongs to a different query.", e.Message);
    }

    [Fact]
    public async Task TokenFromTheSameQueryWrittenDifferently_IsAccepted()
    {
        var first = await _db.Search(new RunSearchRequest([_experiment], "metrics.score > 0.25", ["metrics.score asc"], 3, null));
        var next = await _db.Search(new RunSearchRequest([_experiment, _experiment], "METRICS.score   >  0.25", ["metrics.`score` ASC"], 3, first.NextPageToken));
        Assert.Equal(3, next.RunIds.Count);
        Assert.Empty(next.RunIds.Intersect(first.RunIds));
    }

    [Theory]
    [InlineData("not a token!")]
    [InlineData("e30")] // {}
    [InlineData("bm90IGpzb24")] // not json
    public async Task MalformedToken_IsRejected(string token)
    {
        var e = await Assert.ThrowsAsync<InvalidPageTokenException>(() =>
            _db.Search(new RunSearchRequest([_experiment], null, [], 3, token)));
        Assert.Equal("The page token is not valid.", e.Message);
    }

    [Fact]
    public async Task TamperedTokenValue_IsRejectedAsMalformed()
    {
        var first = await _db.Search(new RunSearchRequest([_experiment], null, [], 3, null));
        var json = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(first.NextPageToken!));
        var tampered = System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.Replace("\"i:", "\"x:", StringComparison.Ordinal)));
        await Assert.ThrowsAsync<InvalidPageTokenException>(() => _db.Search(new RunSearchRequest([_experiment], null, [], 3, tampered)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1_001)]
    public async Task MaxResultsOutOfRange_IsRejected(int maxResults)
    {
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            _db.Search(new RunSearchRequest([], null, [], maxResults, null)));
        Assert.Equal($"maxResults must be between 1 and 1,000; it was {maxResults}.", e.Message);
    }

    public void Dispose() => _db.Dispose();
}
