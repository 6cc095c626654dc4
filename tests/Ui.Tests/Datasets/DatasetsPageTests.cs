using AngleSharp.Dom;
using Microsoft.AspNetCore.Components;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.TestSupport;
using MudBlazor;

namespace ModelOps.Ui.Tests.Datasets;

/// <summary>The dataset list: pages and sorts in SQL, links to each dataset, deletes only after a confirmation.</summary>
public sealed class DatasetsPageTests : DatasetsUiTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static IReadOnlyList<string> ListedNames(IRenderedComponent<Portal.Datasets.Datasets> page) =>
        page.FindAll("[data-testid=datasets-grid] a[data-testid^=dataset-link-]").Select(a => a.TextContent.Trim()).ToList();

    [Fact]
    public async Task Datasets_ingested_through_the_service_are_listed_newest_first_with_their_latest_version()
    {
        await IngestCsvAsync("points", TestData.SeparableCsv(40));
        await IngestCsvAsync("points", TestData.SeparableCsv(60));
        await IngestIdxAsync("digits", 30);
        RenderProviders();
        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Equal(["digits", "points"], ListedNames(page)), Wait);
        var points = page.Find("[data-testid=dataset-link-points]");
        Assert.EndsWith($"datasets/{Db(db => db.Datasets.Single(d => d.Name == "points").Id)}", points.GetAttribute("href"));
        var row = points.Closest("tr")!;
        Assert.Contains("v2", row.TextContent);
        Assert.Contains("(2 in all)", row.TextContent);
        Assert.Contains("60", row.TextContent);
        Assert.Contains("Tabular", row.TextContent);
        Assert.Contains("Images (IDX)", page.Find("[data-testid=dataset-link-digits]").Closest("tr")!.TextContent);
    }

    [Fact]
    public async Task The_list_pages_in_sql_and_counts_every_dataset()
    {
        for (var i = 0; i < 12; i++)
            await IngestCsvAsync($"set-{i:00}", TestData.SeparableCsv(10 + i, seed: i));
        RenderProviders();
        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Equal(10, ListedNames(page).Count), Wait);
        Assert.Equal("set-11", ListedNames(page)[0]);
        Assert.Contains("1-10 of 12", page.Find(".mud-table-pagination").TextContent);
    }

    [Fact]
    public void An_empty_portal_says_how_to_add_a_dataset()
    {
        RenderProviders();
        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Contains("No datasets yet", page.Find("[data-testid=no-datasets]").TextContent), Wait);
    }

    [Fact]
    public async Task Delete_asks_first_cancel_keeps_the_dataset_and_confirming_removes_rows_and_files()
    {
        var version = await IngestCsvAsync("doomed", TestData.SeparableCsv(20));
        await IngestCsvAsync("kept", TestData.SeparableCsv(20));
        var folder = Path.Combine(DataDirectory, version.StoragePath);
        Assert.True(Directory.Exists(folder));
        var dialogs = RenderProviders();
        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Equal(2, ListedNames(page).Count), Wait);

        page.Find("[data-testid=delete-doomed]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Delete dataset doomed?", dialogs.Markup), Wait);
        Assert.Contains("Every version of 'doomed' (1 in all) and its stored files are deleted.", dialogs.Markup);
        Button(dialogs, "Cancel").Click();
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("Delete dataset doomed?", dialogs.Markup), Wait);
        Assert.Equal(2, Db(db => db.Datasets.Count()));

        page.Find("[data-testid=delete-doomed]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Delete dataset doomed?", dialogs.Markup), Wait);
        Button(dialogs, "Delete").Click();
        page.WaitForAssertion(() => Assert.Equal(["kept"], ListedNames(page)), Wait);
        Assert.Equal(["kept"], Db(db => db.Datasets.Select(d => d.Name).ToList()));
        Assert.Single(Db(db => db.DatasetVersions.ToList()));
        Assert.False(Directory.Exists(folder), "the deleted version's files are still there");
        Assert.Contains(Db(db => db.AuditEvents.Select(a => a.Action).ToList()), a => a == "dataset.deleted");
    }

    [Fact]
    public async Task A_dataset_that_runs_were_trained_on_is_not_deleted()
    {
        var version = await IngestCsvAsync("used", TestData.SeparableCsv(20));
        Db(db =>
        {
            db.Runs.Add(new Run { Name = "r", Template = "mlp", Optimizer = "adam", Source = "ui", CreatedBy = "test", DatasetVersionId = version.Id });
            return db.SaveChanges();
        });
        var dialogs = RenderProviders();
        Render<MudSnackbarProvider>();
        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Single(ListedNames(page)), Wait);
        page.Find("[data-testid=delete-used]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Delete dataset used?", dialogs.Markup), Wait);
        Button(dialogs, "Delete").Click();
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=delete-used]").HasAttribute("disabled")), Wait);
        Assert.Single(Db(db => db.Datasets.ToList()));
        Assert.True(Directory.Exists(Path.Combine(DataDirectory, version.StoragePath)));
    }

    [Fact]
    public async Task The_page_speaks_chinese_in_zh_CN()
    {
        await IngestCsvAsync("points", TestData.SeparableCsv(20));
        UseCulture(PortalCultures.Chinese);
        RenderProviders();
        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Single(ListedNames(page)), Wait);
        var grid = page.Find("[data-testid=datasets-grid]").TextContent;
        Assert.Contains("名称", grid);
        Assert.Contains("最新版本", grid);
        Assert.Contains("表格", grid);
        Assert.Contains("数据集", page.Find("[data-testid=page-title]").TextContent);
        Assert.Contains("登记 IDX 图像", page.Markup);
        Assert.DoesNotContain("Latest version", grid);
    }

    private static IElement Button(IRenderedComponent<MudDialogProvider> dialogs, string text) =>
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == text);
}
