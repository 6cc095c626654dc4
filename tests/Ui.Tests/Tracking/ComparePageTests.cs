using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Ui.Tests.Tracking;

/// <summary>The Compare page: the differences table, the run-level charts, the curves read in one query, and its messages.</summary>
public sealed class ComparePageTests : TrackingUiTest
{
    private readonly List<int> runIds = [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var experiment = (await CreateExperimentAsync("compare")).Id;
        for (var i = 0; i < 3; i++)
        {
            runIds.Add(await CreateRunAsync(experiment, $"run-{i}",
                new Dictionary<string, string> { ["optimizer"] = i == 1 ? "sgd" : "adam", ["batch_size"] = "32", ["lr"] = (0.001 * (i + 1)).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                new Dictionary<string, double[]>
                {
                    ["val_accuracy"] = [.. Enumerable.Range(0, 10).Select(s => s == 9 ? 0.5 + 0.015 * i : 0.1 * s)],
                    ["loss"] = [.. Enumerable.Range(0, i == 0 ? 2000 : 50).Select(s => 1.0 / (1 + s))],
                }));
        }
    }

    private IRenderedComponent<Compare> Open(IEnumerable<int> ids)
    {
        Nav.NavigateTo($"compare?runs={string.Join(',', ids)}");
        return Render<Compare>();
    }

    [Fact]
    public void The_table_shows_only_what_differs_until_asked_for_everything()
    {
        var page = Open(runIds);
        var optimizer = page.Find("[data-testid='diff-row-params.optimizer']").QuerySelectorAll("td").Select(td => td.TextContent).ToList();
        Assert.Equal(["adam", "sgd", "adam"], optimizer);
        Assert.Equal(["0.5", "0.515", "0.53"], page.Find("[data-testid='diff-row-metrics.val_accuracy']").QuerySelectorAll("td").Select(td => td.TextContent));
        Assert.Empty(page.FindAll("[data-testid='diff-row-params.batch_size']"));
        page.Find("[data-testid=only-differences]").Change(false);
        Assert.Equal(["32", "32", "32"], page.Find("[data-testid='diff-row-params.batch_size']").QuerySelectorAll("td").Select(td => td.TextContent));
        Assert.Contains("Compare 3 runs", page.Find("h1").TextContent);
    }

    [Fact]
    public void The_curves_of_every_run_come_from_one_read_downsampled_to_500_points()
    {
        var page = Open(runIds);
        // val_accuracy is common to all three and preferred: 10 points each.
        page.WaitForAssertion(() => Assert.Equal("30", page.Find("[data-testid=curves-chart]").GetAttribute("data-points")));
        Assert.NotNull(page.Find("[data-testid=curves-plot]"));
        Assert.NotNull(page.Find("[data-testid=compare-ready]"));
        Assert.NotNull(page.Find("[data-testid=parcoords-chart]"));
        Assert.Equal("3", page.Find("[data-testid=scatter-box]").GetAttribute("data-points"));
    }

    [Fact]
    public async Task Series_of_many_runs_are_read_in_one_statement_in_step_order()
    {
        var series = await InScopeAsync(sp => TrackingStore.SeriesOfRunsAsync(sp.GetRequiredService<PortalDb>(), runIds, "loss", CancellationToken.None));
        Assert.Equal([2000, 50, 50], runIds.Select(id => series[id].Count));
        Assert.True(series[runIds[0]].Select(p => p.Step).SequenceEqual(Enumerable.Range(0, 2000).Select(s => (long)s)));
        var none = await InScopeAsync(sp => TrackingStore.SeriesOfRunsAsync(sp.GetRequiredService<PortalDb>(), runIds, "no-such-key", CancellationToken.None));
        Assert.Empty(none);
    }

    [Fact]
    public void More_than_100_runs_or_a_bad_id_is_a_clear_message()
    {
        var page = Open(Enumerable.Range(1, 101));
        Assert.Contains("at most 100 runs", page.Find("[data-testid=compare-problem]").TextContent);
        Nav.NavigateTo("compare?runs=1,x");
        page = Render<Compare>();
        Assert.Contains("'x' is not a run id", page.Find("[data-testid=compare-problem]").TextContent);
    }

    [Fact]
    public void Missing_runs_are_named_and_one_run_is_not_enough()
    {
        var page = Open([runIds[0], 9999]);
        Assert.Contains("#9999", page.Find("[data-testid=compare-missing]").TextContent);
        Assert.Contains("only one of those named was found", page.Find("[data-testid=compare-problem]").TextContent);
    }

    [Fact]
    public void The_page_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        var page = Open(runIds);
        Assert.Contains("对比 3 个运行", page.Find("h1").TextContent);
        Assert.Contains("平行坐标图", page.Markup);
        Assert.Contains("仅显示差异", page.Markup);
        Assert.DoesNotContain("Parallel coordinates", page.Markup);
    }
}
