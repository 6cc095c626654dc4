using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Ui.Tests.Tracking;

/// <summary>The Experiments page: the runs table over the cursor search, the filter box, sorting, paging, columns, selection and "New experiment".</summary>
public sealed class ExperimentsPageTests : TrackingUiTest
{
    private int experimentId;
    private readonly List<int> runIds = [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        experimentId = (await CreateExperimentAsync("vision", "Image models")).Id;
        for (var i = 0; i < 30; i++)
        {
            runIds.Add(await CreateRunAsync(experimentId, $"run-{i:00}",
                new Dictionary<string, string> { ["optimizer"] = i % 2 == 0 ? "adam" : "sgd", ["layers"] = (1 + i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                new Dictionary<string, double[]> { ["val_accuracy"] = [0.1, 0.5 + 0.01 * i], ["loss"] = [1.0, 0.5] }));
        }
    }

    private IRenderedComponent<Experiments> Open(string query)
    {
        Nav.NavigateTo($"experiments?experiment={experimentId}{query}");
        var page = Render<Experiments>();
        page.WaitForAssertion(() => Assert.Equal(25, page.FindAll("tr.run-row").Count));
        return page;
    }

    [Fact]
    public void The_first_page_shows_25_of_30_runs_newest_first_with_default_columns_from_their_keys()
    {
        var page = Open("");
        Assert.Equal("30", page.Find("[data-testid=run-total]").GetAttribute("data-value"));
        Assert.Contains("30 runs", page.Find("[data-testid=run-total]").TextContent);
        Assert.Equal("run-29", page.FindAll("[data-testid=run-name-cell]")[0].TextContent);
        // val_accuracy and loss are preferred metrics and optimizer a preferred param; layers is not, so it waits in the picker.
        foreach (var column in new[] { "metrics.val_accuracy", "metrics.loss", "params.optimizer" })
            Assert.NotNull(page.Find($"[data-testid='sort-{column}']"));
        Assert.Equal("0.79", page.FindAll("[data-col='metrics.val_accuracy']")[0].TextContent);
        Assert.Equal("1", page.Find("[data-testid=page-info]").GetAttribute("data-page"));
        Assert.NotNull(page.Find("[data-status=Finished]"));
    }

    [Fact]
    public void Next_and_previous_follow_the_cursor()
    {
        var page = Open("");
        page.Find("[data-testid=page-next]").Click();
        page.WaitForAssertion(() => Assert.Equal(5, page.FindAll("tr.run-row").Count));
        Assert.Equal("2", page.Find("[data-testid=page-info]").GetAttribute("data-page"));
        Assert.Equal("run-04", page.FindAll("[data-testid=run-name-cell]")[0].TextContent);
        Assert.True(page.Find("[data-testid=page-next]").HasAttribute("disabled"));
        page.Find("[data-testid=page-prev]").Click();
        page.WaitForAssertion(() => Assert.Equal(25, page.FindAll("tr.run-row").Count));
        Assert.Equal("run-29", page.FindAll("[data-testid=run-name-cell]")[0].TextContent);
    }

    [Fact]
    public void A_filter_in_the_link_is_searched_in_SQL_and_a_syntax_error_is_shown_in_place()
    {
        Nav.NavigateTo($"experiments?experiment={experimentId}&filter={Uri.EscapeDataString("params.optimizer = 'sgd' and metrics.val_accuracy > 0.7")}");
        var page = Render<Experiments>();
        page.WaitForAssertion(() => Assert.Equal("5", page.Find("[data-testid=run-total]").GetAttribute("data-value")));
        Assert.All(page.FindAll("[data-col='params.optimizer']"), c => Assert.Equal("sgd", c.TextContent));

        var before = Nav.Uri;
        page.Find("[data-testid=run-filter]").Input("metrics.val_accuracy > ");
        page.Find("[data-testid=run-filter-apply]").Click();
        Assert.Contains("Position 24", page.Find("[data-testid=run-filter-error]").TextContent);
        Assert.Equal(before, Nav.Uri);
    }

    [Fact]
    public void Enter_in_the_filter_box_navigates_with_the_filter()
    {
        var page = Open("");
        page.Find("[data-testid=run-filter]").Input("params.layers = 2");
        page.Find("[data-testid=run-filter]").KeyDown("Enter");
        Assert.Contains("filter=params.layers", Uri.UnescapeDataString(Nav.Uri).Replace('+', ' '));
        page.WaitForAssertion(() => Assert.Equal("10", page.Find("[data-testid=run-total]").GetAttribute("data-value")));
    }

    [Fact]
    public void A_metric_header_sorts_descending_first_then_ascending()
    {
        var page = Open("");
        page.Find("[data-testid='sort-metrics.val_accuracy']").Click();
        Assert.Contains("order=metrics.val_accuracy DESC", Uri.UnescapeDataString(Nav.Uri).Replace('+', ' '));
        page.WaitForAssertion(() => Assert.Contains("▼", page.Find("[data-testid='sort-metrics.val_accuracy']").TextContent));
        page.Find("[data-testid='sort-metrics.val_accuracy']").Click();
        Assert.Contains("order=metrics.val_accuracy ASC", Uri.UnescapeDataString(Nav.Uri).Replace('+', ' '));
        page.WaitForAssertion(() => Assert.Equal("run-00", page.FindAll("[data-testid=run-name-cell]")[0].TextContent));
    }

    [Fact]
    public void The_column_picker_reads_the_experiments_keys_when_opened_and_adds_a_column()
    {
        var page = Open("");
        Assert.Empty(page.FindAll("[data-testid='column-option-params.layers']"));
        page.Find("[data-testid=column-picker-toggle]").Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid='column-option-params.layers']")));
        page.Find("[data-testid='column-option-params.layers']").Change(true);
        Assert.Contains("params.layers", Uri.UnescapeDataString(Nav.Uri));
        page.WaitForAssertion(() => Assert.Equal("3", page.FindAll("[data-col='params.layers']")[0].TextContent));
    }

    [Fact]
    public void Selecting_runs_enables_compare_and_opens_it_with_their_ids()
    {
        var page = Open("");
        Assert.True(page.Find("[data-testid=compare]").HasAttribute("disabled"));
        page.Find($"[data-testid=select-run-{runIds[29]}]").Change(true);
        page.Find($"[data-testid=select-run-{runIds[28]}]").Change(true);
        page.WaitForAssertion(() => Assert.Contains("Compare (2)", page.Find("[data-testid=compare]").TextContent));
        page.Find("[data-testid=compare]").Click();
        Assert.EndsWith($"compare?runs={runIds[28]},{runIds[29]}", Nav.Uri);
    }

    [Fact]
    public async Task A_saved_view_keeps_filter_order_and_columns()
    {
        var page = Open("&order=attributes.name%20ASC");
        page.Find("[data-testid=view-name]").Input("by name");
        page.Find("[data-testid=save-view]").Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid='saved-view-by name']")));
        var view = await InScopeAsync(sp => sp.GetRequiredService<PortalDb>().SavedViews.SingleAsync());
        Assert.Equal("attributes.name ASC", view.OrderBy);
        Assert.Contains("metrics.val_accuracy", view.Columns);
    }

    [Fact]
    public void New_experiment_shows_the_APIs_rule_under_the_name_then_creates_and_selects_it()
    {
        var dialogs = RenderProviders();
        var page = Open("");
        page.Find("[data-testid=new-experiment]").Click();
        dialogs.WaitForAssertion(() => Assert.NotNull(dialogs.Find("[data-testid=new-experiment-name]")));

        // Blank: the sentence Names.Experiment gives the API's callers, under the field.
        dialogs.Find("[data-testid=new-experiment-create]").Click();
        dialogs.WaitForAssertion(() => Assert.Equal("An experiment name is required.", dialogs.Find("[data-testid=new-experiment-name-problem]").TextContent));

        // Taken: the conflict the API answers with a 409.
        dialogs.Find("[data-testid=new-experiment-name]").Input("vision");
        dialogs.Find("[data-testid=new-experiment-create]").Click();
        dialogs.WaitForAssertion(() => Assert.Equal("An experiment named 'vision' exists already.", dialogs.Find("[data-testid=new-experiment-name-problem]").TextContent));

        dialogs.Find("[data-testid=new-experiment-name]").Input("  speech  ");
        dialogs.Find("[data-testid=new-experiment-description]").Change("Audio models");
        dialogs.Find("[data-testid=new-experiment-create]").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=new-experiment-name]")));

        var created = Db(db => db.Experiments.Single(e => e.Name == "speech"));
        Assert.Equal("Audio models", created.Description);
        Assert.Contains($"experiment={created.Id}", Nav.Uri);
        page.WaitForAssertion(() => Assert.Equal("0", page.Find("[data-testid=run-total]").GetAttribute("data-value")));
        Assert.Contains("speech (0)", page.Markup);
    }

    [Fact]
    public void The_page_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        var page = Open("");
        Assert.Contains("30 个运行", page.Find("[data-testid=run-total]").TextContent);
        Assert.Contains("新建实验", page.Find("[data-testid=new-experiment]").TextContent);
        Assert.Contains("第 1 页", page.Find("[data-testid=page-info]").TextContent);
        Assert.DoesNotContain("Saved views", page.Markup);
        Assert.Contains("已保存的视图", page.Markup);
    }
}
