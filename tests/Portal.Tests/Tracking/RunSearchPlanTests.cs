using ModelOps.Portal.Tracking.Query;

namespace ModelOps.Portal.Tests.Tracking;

/// <summary>
/// The search's SQL reaches runs through the indexes, never by scanning every run or param. Without
/// ANALYZE (the portal runs none) SQLite plans from the schema alone, so a small database shows the plan a
/// large one gets.
/// </summary>
public sealed class RunSearchPlanTests(SearchFixture fixture) : IClassFixture<SearchFixture>
{
    private List<string> Plan(string sql, IEnumerable<KeyValuePair<string, object>> parameters)
    {
        using var command = fixture.Db.Connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read()) lines.Add(reader.GetString(3));
        return lines;
    }

    [Theory]
    [InlineData("params.lr > 0.001 and metrics.acc > 0.5", "SEARCH p0 USING COVERING INDEX IX_run_params_Key_NumValue (Key=? AND NumValue>?)")]
    [InlineData("params.optimizer = 'adam' and metrics.acc > 0.5", "SEARCH m1 USING COVERING INDEX IX_latest_metrics_KeyId_Value (KeyId=? AND Value>?)")]
    [InlineData("params.optimizer = 'adam'", "SEARCH p0 USING COVERING INDEX IX_run_params_Key_Value (Key=? AND Value=?)")]
    [InlineData("metrics.acc >= 0.9", "SEARCH m0 USING COVERING INDEX IX_latest_metrics_KeyId_Value (KeyId=? AND Value>?)")]
    public void FilteredSearch_DrivesFromAnIndex_AndLooksRunsUpByKey(string filter, string driver)
    {
        var search = RunSearch.Compile(new RunSearchRequest([], filter, ["metrics.loss DESC"], 50, null));
        foreach (var plan in new[] { Plan(search.PageSql, search.Parameters), Plan(search.CountSql, search.Parameters) })
        {
            Assert.Contains(driver, plan);
            Assert.Contains("SEARCH r USING INTEGER PRIMARY KEY (rowid=?)", plan);
            Assert.DoesNotContain(plan, line => line.StartsWith("SCAN", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void SearchInAnExperiment_ReadsOnlyThatExperimentsRuns_AndJoinsValuesByPrimaryKey()
    {
        var search = RunSearch.Compile(new RunSearchRequest([2], "tags.team like 'v%' or not (metrics.acc > 0.5)", ["params.lr"], 50, null));
        var plan = Plan(search.PageSql, search.Parameters);
        Assert.Contains("SEARCH r USING INDEX IX_runs_ExperimentId_Id (ExperimentId=?)", plan);
        Assert.Contains("SEARCH t0 USING PRIMARY KEY (RunId=? AND Key=?) LEFT-JOIN", plan);
        Assert.Contains("SEARCH m1 USING PRIMARY KEY (RunId=? AND KeyId=?) LEFT-JOIN", plan);
        Assert.Contains("SEARCH p2 USING PRIMARY KEY (RunId=? AND Key=?) LEFT-JOIN", plan);
        Assert.DoesNotContain(plan, line => line.StartsWith("SCAN", StringComparison.Ordinal));
    }

    [Fact]
    public void DefaultOrder_WalksTheIdIndexBackwards_WithoutSorting()
    {
        var search = RunSearch.Compile(new RunSearchRequest([2], null, [], 50, null));
        var plan = Plan(search.PageSql, search.Parameters);
        Assert.Contains("SEARCH r USING INDEX IX_runs_ExperimentId_Id (ExperimentId=?)", plan);
        Assert.DoesNotContain(plan, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryKeyIsOneJoinAndEveryValueAParameter()
    {
        var search = RunSearch.Compile(new RunSearchRequest([2],
            "params.`x'--` = 'a''b' or params.`x'--` > 3 or metrics.m < 1 and metrics.m > 0", ["metrics.m DESC", "tags.`t\"` ASC"], 50, null));
        Assert.DoesNotContain("x'", search.PageSql, StringComparison.Ordinal);
        Assert.DoesNotContain("a'", search.PageSql, StringComparison.Ordinal);
        Assert.Equal(3, search.PageSql.Split("LEFT JOIN").Length - 1);
        Assert.Equal(2, search.CountSql.Split("LEFT JOIN").Length - 1);
        Assert.Contains(search.Parameters, p => Equals(p.Value, "x'--"));
        Assert.Contains(search.Parameters, p => Equals(p.Value, "a'b"));
        Assert.Contains(search.Parameters, p => Equals(p.Value, "t\""));
    }
}
