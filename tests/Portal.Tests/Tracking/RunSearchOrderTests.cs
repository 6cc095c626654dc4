using ModelOps.Portal.Tracking.Query;

namespace ModelOps.Portal.Tests.Tracking;

/// <summary>Ordering over <see cref="SearchFixture"/>: missing values last either way, ties newest first.</summary>
public sealed class RunSearchOrderTests(SearchFixture fixture) : IClassFixture<SearchFixture>
{
    private TrackingDatabase Db => fixture.Db;

    [Theory]
    [InlineData(new string[0], new[] { 5, 4, 3, 2, 1 })]
    [InlineData(new[] { "attributes.id DESC" }, new[] { 5, 4, 3, 2, 1 })]
    [InlineData(new[] { "id" }, new[] { 1, 2, 3, 4, 5 })]
    [InlineData(new[] { "id asc" }, new[] { 1, 2, 3, 4, 5 })]
    // acc: 1 → 0.91, 2 → 0.85, 3 → 0.95, 4 → none, 5 → 0.85 (the tie breaks newest first).
    [InlineData(new[] { "metrics.acc DESC" }, new[] { 3, 1, 5, 2, 4 })]
    [InlineData(new[] { "metrics.acc" }, new[] { 5, 2, 1, 3, 4 })]
    [InlineData(new[] { "metrics.acc ASC" }, new[] { 5, 2, 1, 3, 4 })]
    [InlineData(new[] { "metrics.`val/loss` DESC" }, new[] { 3, 5, 4, 2, 1 })]
    [InlineData(new[] { "metrics.nonexistent DESC" }, new[] { 5, 4, 3, 2, 1 })]
    // lr: 1 → 0.01, 2 → 0.1, 3 → 0.001, 5 → 0.1, 4 → none.
    [InlineData(new[] { "params.lr ASC" }, new[] { 3, 1, 5, 2, 4 })]
    [InlineData(new[] { "params.lr DESC" }, new[] { 5, 2, 1, 3, 4 })]
    // layers: numbers first (1 → 3, 3 → 10, by number, not "10" < "3"), then texts (5 → abc, 2 → deep), then none.
    [InlineData(new[] { "params.layers ASC" }, new[] { 1, 3, 5, 2, 4 })]
    [InlineData(new[] { "params.layers DESC" }, new[] { 3, 1, 2, 5, 4 })]
    [InlineData(new[] { "tags.team ASC" }, new[] { 2, 3, 1, 5, 4 })]
    [InlineData(new[] { "tags.team DESC" }, new[] { 1, 3, 2, 5, 4 })]
    [InlineData(new[] { "name DESC" }, new[] { 3, 5, 4, 2, 1 })]
    [InlineData(new[] { "status" }, new[] { 4, 2, 1, 3, 5 })]
    [InlineData(new[] { "status DESC" }, new[] { 5, 3, 1, 2, 4 })]
    [InlineData(new[] { "kind", "created_at desc" }, new[] { 4, 1, 5, 3, 2 })]
    [InlineData(new[] { "ended_at ASC" }, new[] { 1, 3, 5, 4, 2 })]
    [InlineData(new[] { "ended_at DESC" }, new[] { 5, 3, 1, 4, 2 })]
    [InlineData(new[] { "parent_run_id DESC" }, new[] { 3, 5, 4, 2, 1 })]
    [InlineData(new[] { "experiment_id", "metrics.loss desc" }, new[] { 1, 3, 2, 4, 5 })]
    [InlineData(new[] { "metrics.acc DESC", "params.optimizer DESC" }, new[] { 3, 1, 2, 5, 4 })]
    public async Task OrderBy_SortsMissingLastAndBreaksTiesNewestFirst(string[] orderBy, int[] expected) =>
        Assert.Equal(expected, await Db.Ids(null, orderBy));

    [Fact]
    public async Task OrderBy_WithAFilter_OrdersOnlyTheMatches() =>
        Assert.Equal([1, 3], await Db.Ids("params.optimizer like 'adam' and id < 5", "tags.team DESC"));
}
