using ModelOps.Portal.Tracking.Query;

namespace ModelOps.Portal.Tests.Tracking;

public sealed class FilterParserTests
{
    private static string Canonical(string filter) => FilterParser.Parse(filter)!.ToString();

    private static FilterSyntaxException Error(string filter) => Assert.Throws<FilterSyntaxException>(() => FilterParser.Parse(filter));

    [Theory]
    [InlineData("metrics.acc > 0.9 and (params.optimizer = 'adam' or tags.team = 'vision')",
        "(metrics.acc > 0.9 AND (params.optimizer = 'adam' OR tags.team = 'vision'))")]
    [InlineData("id = 1 or id = 2 and id = 3", "(attributes.id = 1 OR (attributes.id = 2 AND attributes.id = 3))")]
    [InlineData("id = 1 and id = 2 or id = 3", "((attributes.id = 1 AND attributes.id = 2) OR attributes.id = 3)")]
    [InlineData("not id = 1 and id = 2", "(NOT attributes.id = 1 AND attributes.id = 2)")]
    [InlineData("not (id = 1 and id = 2)", "NOT (attributes.id = 1 AND attributes.id = 2)")]
    [InlineData("id = 1 or id = 2 or id = 3", "(attributes.id = 1 OR attributes.id = 2 OR attributes.id = 3)")]
    [InlineData("NOT NOT Name LIKE 'a%' Or STATUS In ('running', 'FAILED')",
        "(NOT NOT attributes.name LIKE 'a%' OR attributes.status IN (1, 3))")]
    [InlineData("params.x not like 'a' and params.y not in (1, 2.5) and tags.z is not null and metrics.m is null",
        "(params.x NOT LIKE 'a' AND params.y NOT IN (1, 2.5) AND tags.z IS NOT NULL AND metrics.m IS NULL)")]
    [InlineData("metrics.`val/loss` <= -1.5e-3", "metrics.`val/loss` <= -0.0015")]
    [InlineData("params.`a``b` = 'it''s' and tags.q = \"say \"\"hi\"\"\"", "(params.`a``b` = 'it''s' AND tags.q = 'say \"hi\"')")]
    [InlineData("params.model.depth >= +3 and params.learning-rate <> 0.1", "(params.model.depth >= 3 AND params.learning-rate != 0.1)")]
    [InlineData("created_at > '2026-11-01'", "attributes.created_at > '2026-11-01 00:00:00'")]
    [InlineData("ended_at <= '2026-11-01T10:00:00.25+01:00'", "attributes.ended_at <= '2026-11-01 09:00:00.25'")]
    [InlineData("kind = 'Tracked'", "attributes.kind = 1")]
    [InlineData("attributes.`experiment_id` = 2", "attributes.experiment_id = 2")]
    [InlineData("(((id=1)))", "attributes.id = 1")]
    public void Parse_BuildsTheExpectedTree(string filter, string canonical) => Assert.Equal(canonical, Canonical(filter));

    [Theory]
    [InlineData("params.optimizer = 'adam' and metrics.acc >", 44, "expected a value after '>', but found the end of the input.")]
    [InlineData("metrics.val_accuracy > 0.9 and params.x > and id = 1", 43,
        "expected a value after '>', but found 'and'.")]
    [InlineData("params.optimizer = adam", 20, "expected a value after '=', but found 'adam'; quote text, as in 'adam'.")]
    [InlineData("name = 'abc", 8, "unterminated string: the ' here is never closed.")]
    [InlineData("name = \"abc''", 8, "unterminated string: the \" here is never closed.")]
    [InlineData("metrics.`val/loss > 1", 9, "unterminated key: the ` here is never closed.")]
    [InlineData("metrics.`` > 1", 9, "the key after 'metrics.' is empty.")]
    [InlineData("metrics. > 1", 9, "expected a key after 'metrics.'; quote a key with other characters in backticks, as in metrics.`val/loss`.")]
    [InlineData("metric.acc > 1", 1, "unknown prefix 'metric'; a column is metrics.<key>, params.<key>, tags.<key> or attributes.<name>.")]
    [InlineData("id = 1 and nmae = 'x'", 12,
        "unknown attribute 'nmae'. Attributes are id, name, status, source, kind, experiment_id, parent_run_id, created_by, created_at, started_at, ended_at, gpu_seconds, cpu_core_seconds, cost; other columns are metrics.<key>, params.<key> or tags.<key>.")]
    [InlineData("attributes.colour = 'red'", 1,
        "unknown attribute 'colour'. Attributes are id, name, status, source, kind, experiment_id, parent_run_id, created_by, created_at, started_at, ended_at, gpu_seconds, cpu_core_seconds, cost; other columns are metrics.<key>, params.<key> or tags.<key>.")]
    [InlineData("name = 'a' extra", 12, "expected 'and', 'or' or the end of the filter, but found 'extra'.")]
    [InlineData("name = 'a')", 11, "this ')' closes no '('.")]
    [InlineData("(name = 'a' or id = 1", 22, "expected ')' to close the '(' at position 1, but found the end of the input.")]
    [InlineData("id in ()", 8, "the list after 'in' is empty; it needs at least one value.")]
    [InlineData("id in (1, 2", 12, "expected ',' or ')' in the list that starts at position 7, but found the end of the input.")]
    [InlineData("id in 1", 7, "expected '(' after 'in', as in in ('a', 'b'), but found '1'.")]
    [InlineData("id = 1 and", 11, "expected a column (metrics.<key>, params.<key>, tags.<key> or an attribute such as status) after 'and', but found the end of the input.")]
    [InlineData("and id = 1", 1, "expected a column (metrics.<key>, params.<key>, tags.<key> or an attribute such as status), but found 'and'.")]
    [InlineData("id 1", 4, "expected an operator (=, !=, <, <=, >, >=, like, not like, in, not in, is null, is not null) after attributes.id, but found '1'.")]
    [InlineData("id is 1", 7, "expected 'null' or 'not null' after 'is', but found '1'.")]
    [InlineData("id not = 1", 8, "expected 'like' or 'in' after 'not', but found '='.")]
    [InlineData("id == 1", 4, "'==' is not an operator; use '=' for equality.")]
    [InlineData("id = 1 && id = 2", 8, "unexpected character '&'.")]
    [InlineData("id = 1.2.3", 6, "'1.2.3' is not a number.")]
    [InlineData("id = 1e999", 6, "the number 1e999 is out of range.")]
    [InlineData("`acc` > 1", 1, "a backtick-quoted key needs a prefix, as in metrics.`val/loss`.")]
    [InlineData("status = 'Done'", 10, "unknown status 'Done'; it is one of 'Queued', 'Running', 'Finished', 'Failed', 'Cancelled'.")]
    [InlineData("status > 'Queued'", 8, "attributes.status supports =, !=, in, not in and is null, not '>'.")]
    [InlineData("kind in ('tracked', 'manual')", 21, "unknown kind 'manual'; it is one of 'training', 'tracked'.")]
    [InlineData("created_at > '2026-13-01'", 14,
        "'2026-13-01' is not an ISO-8601 date or time; write '2026-11-01', '2026-11-01T10:00:00Z' or '2026-11-01T10:00:00+02:00'.")]
    [InlineData("started_at < 'yesterday'", 14,
        "'yesterday' is not an ISO-8601 date or time; write '2026-11-01', '2026-11-01T10:00:00Z' or '2026-11-01T10:00:00+02:00'.")]
    [InlineData("created_at like '2026%'", 12, "'like' works on text; attributes.created_at is a time.")]
    [InlineData("metrics.acc = 'high'", 15, "metrics.acc is a number; compare it with a number, not the string 'high'.")]
    [InlineData("metrics.acc like '0.9%'", 13, "metrics.acc is a number; 'like' works on params, tags and text attributes.")]
    [InlineData("tags.team = 5", 13, "tags.team is text; quote the value, as in '5'.")]
    [InlineData("name in ('a', 2)", 15, "attributes.name is text; quote the value, as in '2'.")]
    [InlineData("id = '5'", 6, "attributes.id is a number; compare it with a number, not the string '5'.")]
    [InlineData("params.x in (1, 'a')", 17,
        "the list mixes numbers and text; params.x is compared as a number with numbers and as text with strings, so use one or the other.")]
    [InlineData("params.x like 5", 15, "'like' needs a quoted pattern, as in '%5%'.")]
    public void SyntaxError_NamesThePositionAndTheProblem(string filter, int position, string problem)
    {
        var e = Error(filter);
        Assert.Equal(position, e.Position);
        Assert.Equal(problem, e.Problem);
        Assert.Equal($"Position {position}: {problem}", e.Message);
    }

    [Fact]
    public void TooLongFilter_IsRejected()
    {
        var filter = string.Join(" or ", Enumerable.Range(0, 600).Select(i => $"id = {i}"));
        var e = Error(filter);
        Assert.Equal(4_001, e.Position);
        Assert.Equal($"the filter is {filter.Length:N0} characters long; the limit is 4,000.", e.Problem);
    }

    [Fact]
    public void LongFlatFilterUnderTheLimit_Parses()
    {
        var filter = string.Join(" or ", Enumerable.Range(0, 400).Select(i => $"id={i}"));
        Assert.True(filter.Length <= 4_000);
        Assert.Equal(400, Assert.IsType<OrExpression>(FilterParser.Parse(filter)).Terms.Count);
    }

    [Fact]
    public void DeepNesting_IsRejectedAtTheLevelPastTheLimit()
    {
        Assert.NotNull(FilterParser.Parse(new string('(', 64) + "id = 1" + new string(')', 64)));
        var e = Error(new string('(', 65) + "id = 1" + new string(')', 65));
        Assert.Equal(65, e.Position);
        Assert.Equal("the filter nests deeper than 64 levels of 'not' and parentheses.", e.Problem);
        Assert.Equal(161, Error(string.Concat(Enumerable.Repeat("not (", 33))).Position);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \t\n")]
    public void BlankFilter_IsNoFilter(string? filter) => Assert.Null(FilterParser.Parse(filter));

    [Theory]
    [InlineData("metrics.acc", "metrics.acc ASC")]
    [InlineData("  metrics.`val/loss`   desc ", "metrics.`val/loss` DESC")]
    [InlineData("PARAMS.lr Asc", "params.lr ASC")]
    [InlineData("created_at DESC", "attributes.created_at DESC")]
    public void OrderBy_Parses(string entry, string canonical) => Assert.Equal(canonical, FilterParser.ParseOrderBy(entry).ToString());

    [Theory]
    [InlineData("", 1, "expected a column to order by, as in 'metrics.val_accuracy DESC'.")]
    [InlineData("metrics.acc DSC", 13, "expected ASC, DESC or the end of the entry after metrics.acc, but found 'DSC'.")]
    [InlineData("metrics.acc DESC, id", 17, "expected ASC, DESC or the end of the entry after metrics.acc, but found ','.")]
    [InlineData("colour DESC", 1,
        "unknown attribute 'colour'. Attributes are id, name, status, source, kind, experiment_id, parent_run_id, created_by, created_at, started_at, ended_at, gpu_seconds, cpu_core_seconds, cost; other columns are metrics.<key>, params.<key> or tags.<key>.")]
    [InlineData("metrics.acc > 1", 13, "expected ASC, DESC or the end of the entry after metrics.acc, but found '>'.")]
    public void OrderBy_Error_NamesTheEntryAndPosition(string entry, int position, string problem)
    {
        var e = Assert.Throws<FilterSyntaxException>(() => FilterParser.ParseOrderBy(entry, 2));
        Assert.Equal(position, e.Position);
        Assert.Equal(problem, e.Problem);
        Assert.Equal($"orderBy[2], position {position}: {problem}", e.Message);
    }
}
