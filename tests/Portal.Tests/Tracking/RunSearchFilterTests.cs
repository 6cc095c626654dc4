using ModelOps.Portal.Tracking.Query;

namespace ModelOps.Portal.Tests.Tracking;

/// <summary>What each filter finds in <see cref="SearchFixture"/>'s runs, newest first.</summary>
public sealed class RunSearchFilterTests(SearchFixture fixture) : IClassFixture<SearchFixture>
{
    private TrackingDatabase Db => fixture.Db;

    [Theory]
    [InlineData(null, new[] { 5, 4, 3, 2, 1 })]
    [InlineData("   ", new[] { 5, 4, 3, 2, 1 })]
    // Params against strings compare the text, case-sensitively; like is case-insensitive.
    [InlineData("params.optimizer = 'adam'", new[] { 5, 1 })]
    [InlineData("params.optimizer = \"Adam\"", new[] { 3 })]
    [InlineData("params.optimizer != 'adam'", new[] { 3, 2 })]
    [InlineData("params.optimizer <> 'adam'", new[] { 3, 2 })]
    [InlineData("params.optimizer like 'ADAM'", new[] { 5, 3, 1 })]
    [InlineData("params.optimizer like '_g%'", new[] { 2 })]
    [InlineData("params.optimizer not like 'a%'", new[] { 2 })]
    [InlineData("params.optimizer in ('sgd', 'Adam')", new[] { 3, 2 })]
    [InlineData("params.optimizer not in ('adam')", new[] { 3, 2 })]
    [InlineData("params.optimizer is null", new[] { 4 })]
    [InlineData("params.optimizer is not null", new[] { 5, 3, 2, 1 })]
    // Params against numbers compare NumValue; texts that are not numbers never match.
    [InlineData("params.lr > 0.005", new[] { 5, 2, 1 })]
    [InlineData("params.lr = 0.1", new[] { 5, 2 })]
    [InlineData("params.lr = 1e-1", new[] { 5, 2 })]
    [InlineData("params.lr <= 0.01", new[] { 3, 1 })]
    [InlineData("params.lr < .01", new[] { 3 })]
    [InlineData("params.lr in (0.001, 0.01)", new[] { 3, 1 })]
    [InlineData("params.layers > 2", new[] { 3, 1 })]
    [InlineData("params.layers != 3", new[] { 3 })]
    [InlineData("params.layers not in (3)", new[] { 3 })]
    [InlineData("params.layers > -1000", new[] { 3, 1 })]
    [InlineData("params.layers = 'deep'", new[] { 2 })]
    [InlineData("params.layers = '3'", new[] { 1 })]
    [InlineData("params.layers > '2'", new[] { 5, 2, 1 })]
    // Metrics: the latest value; a run without it never matches a comparison.
    [InlineData("metrics.acc >= 0.91", new[] { 3, 1 })]
    [InlineData("metrics.acc = 0.85", new[] { 5, 2 })]
    [InlineData("metrics.acc != 0.85", new[] { 3, 1 })]
    [InlineData("metrics.acc not in (0.85, 0.95)", new[] { 1 })]
    [InlineData("metrics.acc < 1", new[] { 5, 3, 2, 1 })]
    [InlineData("metrics.acc is null", new[] { 4 })]
    [InlineData("metrics.loss is not null", new[] { 4, 3, 1 })]
    [InlineData("metrics.`val/loss` < 0.3", new[] { 3 })]
    [InlineData("metrics.nonexistent > 0", new int[0])]
    [InlineData("metrics.nonexistent is null", new[] { 5, 4, 3, 2, 1 })]
    // Tags.
    [InlineData("tags.team = 'nlp'", new[] { 3 })]
    [InlineData("tags.team like 'vision%'", new[] { 2, 1 })]
    [InlineData("tags.team is null", new[] { 5, 4 })]
    [InlineData("tags.note = 'it''s'", new[] { 3 })]
    [InlineData("tags.note = \"it's\"", new[] { 3 })]
    [InlineData("tags.`note` in ('x', 'it''s')", new[] { 3 })]
    public async Task Filter_FindsExactlyTheMatchingRuns(string? filter, int[] expected) =>
        Assert.Equal(expected, await Db.Ids(filter));

    [Theory]
    [InlineData("status = 'finished'", new[] { 1 })]
    [InlineData("attributes.status = 'Finished'", new[] { 1 })]
    [InlineData("status in ('Running', 'QUEUED')", new[] { 4, 2 })]
    [InlineData("status != 'Failed'", new[] { 5, 4, 2, 1 })]
    [InlineData("status not in ('Failed', 'Cancelled')", new[] { 4, 2, 1 })]
    [InlineData("kind = 'training'", new[] { 4, 1 })]
    [InlineData("kind != 'training'", new[] { 5, 3, 2 })]
    [InlineData("name = 'beta'", new[] { 2 })]
    [InlineData("name like 'G%'", new[] { 3 })]
    [InlineData("name < 'c'", new[] { 2, 1 })]
    [InlineData("id > 3", new[] { 5, 4 })]
    [InlineData("attributes.id in (2, 4, 6, 7)", new[] { 4, 2 })]
    [InlineData("id >= 2.5", new[] { 5, 4, 3 })]
    [InlineData("experiment_id = 2", new[] { 3, 2, 1 })]
    [InlineData("experiment_id = 3", new[] { 5, 4 })]
    [InlineData("parent_run_id = 1", new[] { 3 })]
    [InlineData("parent_run_id is null", new[] { 5, 4, 2, 1 })]
    [InlineData("created_by = 'bob'", new[] { 4, 2 })]
    [InlineData("source = 'sweep'", new[] { 4 })]
    [InlineData("source in ('UI', 'sweep')", new[] { 4, 1 })]
    // Times: ISO-8601, UTC unless it says otherwise, compared with the stored text.
    [InlineData("created_at >= '2026-11-01'", new[] { 5, 4, 3, 2 })]
    [InlineData("created_at < '2026-11-01'", new[] { 1 })]
    [InlineData("created_at = '2026-11-01T10:00:00Z'", new[] { 2 })]
    [InlineData("created_at = '2026-11-01 10:00'", new[] { 2 })]
    [InlineData("created_at > '2026-11-02T12:30:00Z'", new[] { 5, 4, 3 })]
    [InlineData("created_at > '2026-11-02T12:30:00.5Z'", new[] { 5, 4 })]
    [InlineData("created_at > '2026-11-02T14:30:00+02:00'", new[] { 5, 4, 3 })]
    [InlineData("created_at in ('2026-11-03', '2026-11-04T00:00:00Z')", new[] { 5, 4 })]
    [InlineData("started_at < '2026-11-01'", new[] { 1 })]
    [InlineData("ended_at is null", new[] { 4, 2 })]
    [InlineData("ended_at > '2026-10-02'", new[] { 5, 3 })]
    [InlineData("ended_at != '2026-11-02T13:00:00Z'", new[] { 5, 1 })]
    public async Task Attribute_FindsExactlyTheMatchingRuns(string filter, int[] expected) =>
        Assert.Equal(expected, await Db.Ids(filter));

    [Theory]
    // and binds tighter than or: acc > 0.9 or (sgd and nlp) = {1, 3} or {} ...
    [InlineData("metrics.acc > 0.9 or params.optimizer = 'sgd' and tags.team = 'nlp'", new[] { 3, 1 })]
    // ... while parentheses make it ({1, 3} or {2}) and {3}.
    [InlineData("(metrics.acc > 0.9 or params.optimizer = 'sgd') and tags.team = 'nlp'", new[] { 3 })]
    [InlineData("params.optimizer = 'sgd' and tags.team = 'nlp' or metrics.acc > 0.9", new[] { 3, 1 })]
    // not binds tighter than and: (not adam) and acc > 0.8 ...
    [InlineData("not params.optimizer = 'adam' and metrics.acc > 0.8", new[] { 3, 2 })]
    // ... and is the complement, so it includes the run without the param (4).
    [InlineData("not (params.optimizer = 'adam' and metrics.acc > 0.8)", new[] { 4, 3, 2 })]
    [InlineData("not (metrics.acc > 0.9)", new[] { 5, 4, 2 })]
    [InlineData("not not (metrics.acc > 0.9)", new[] { 3, 1 })]
    [InlineData("not (not (metrics.acc > 0.9) or id = 3)", new[] { 1 })]
    [InlineData("NOT Status = 'running' AnD Id > 1 oR NaMe = 'alpha'", new[] { 5, 4, 3, 1 })]
    [InlineData("((((id = 1))))", new[] { 1 })]
    [InlineData("id = 1 or id = 2 or id = 3 and id = 4", new[] { 2, 1 })]
    public async Task Precedence_AndBeforeOr_NotBeforeAnd(string filter, int[] expected) =>
        Assert.Equal(expected, await Db.Ids(filter));

    [Fact]
    public async Task ExperimentIds_RestrictTheSearch_AndEmptyMeansAll()
    {
        Assert.Equal([3, 2, 1], (await Db.Search(new RunSearchRequest([fixture.Vision], null, [], 100, null))).RunIds);
        Assert.Equal([5, 4, 3, 2, 1], (await Db.Search(new RunSearchRequest([fixture.Nlp, fixture.Vision, fixture.Vision], null, [], 100, null))).RunIds);
        Assert.Equal([5, 4, 3, 2, 1], (await Db.Search(new RunSearchRequest([], null, [], 100, null))).RunIds);
        Assert.Empty((await Db.Search(new RunSearchRequest([999], null, [], 100, null))).RunIds);
    }

    [Theory]
    [InlineData("params.optimizer = 'adam'")]
    [InlineData("metrics.acc > 0.98")]
    [InlineData("tags.team = 'vision'")]
    [InlineData("id >= 6")]
    public async Task DeletedRunsAndRunsOfDeletedExperiments_AreNeverFound(string filter)
    {
        var page = await Db.Search(new RunSearchRequest([], filter, ["metrics.acc DESC"], 100, null));
        Assert.DoesNotContain(6, page.RunIds);
        Assert.DoesNotContain(7, page.RunIds);
        Assert.Equal(page.RunIds.Count, page.Total);
        // The deleted experiment's runs stay hidden even when it is asked for by id.
        Assert.Empty((await Db.Search(new RunSearchRequest([4], null, [], 100, null))).RunIds);
    }

    [Theory]
    [InlineData("params.`x' OR 1=1 --` = 'a'", new int[0])]
    [InlineData("params.optimizer = 'adam'' OR ''1''=''1'", new int[0])]
    [InlineData("params.optimizer = \"adam\"\" OR 1=1 --\"", new int[0])]
    [InlineData("tags.`team; DROP TABLE runs; --` is null", new[] { 5, 4, 3, 2, 1 })]
    [InlineData("metrics.`acc) OR (1=1` > 0", new int[0])]
    [InlineData("name like '%'' OR 1=1; DROP TABLE run_params; --'", new int[0])]
    public async Task InjectionLookingKeysAndValues_AreJustKeysAndValues(string filter, int[] expected)
    {
        Assert.Equal(expected, await Db.Ids(filter, "params.`p'); DROP TABLE runs; --` DESC"));
        Assert.Equal(7, Db.Scalar("SELECT COUNT(*) FROM runs"));
        Assert.Equal(12, Db.Scalar("SELECT COUNT(*) FROM run_params WHERE RunId <= 5"));
    }

    [Fact]
    public async Task Total_CountsAllMatches_NotJustThePage()
    {
        var page = await Db.Search(new RunSearchRequest([], "metrics.acc > 0.5", ["metrics.acc DESC"], 2, null));
        Assert.Equal([3, 1], page.RunIds);
        Assert.Equal(4, page.Total);
        Assert.NotNull(page.NextPageToken);
    }
}
