using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Shell;
using ModelOps.TestSupport;

namespace ModelOps.Ui.Tests.Datasets;

/// <summary>A dataset's page: the profile per column (missing values too), the class balance chart, the versions, IDX samples.</summary>
public sealed class DatasetDetailTests : DatasetsUiTest
{
    private IRenderedComponent<DatasetDetail> RenderDetail(int id, int? version = null)
    {
        if (version is not null)
            Services.GetRequiredService<NavigationManager>().NavigateTo($"datasets/{id}?version={version}");
        return Render<DatasetDetail>(p => p.Add(d => d.Id, id));
    }

    [Fact]
    public async Task A_csv_dataset_shows_its_profile_columns_class_chart_and_first_rows()
    {
        var version = await IngestCsvAsync("points", TestData.SeparableCsv(400), fileName: "points.csv");
        var page = RenderDetail(version.DatasetId);
        Assert.Contains("points", page.Find("[data-testid=dataset-name]").TextContent);
        Assert.Equal("400", page.Find("[data-testid=dataset-rows]").GetAttribute("data-value"));
        Assert.Contains("400", page.Find("[data-testid=dataset-rows]").TextContent);
        Assert.Equal(version.Sha256, page.Find("[data-testid=dataset-sha256]").TextContent.Trim());
        Assert.Equal("label", page.Find("[data-testid=dataset-label]").TextContent.Trim());
        Assert.Equal("2", page.Find("[data-testid=dataset-classes]").TextContent.Trim());
        Assert.Equal("none", page.Find("[data-testid=dataset-missing]").TextContent.Trim());
        var columns = page.FindAll("[data-testid=columns-table] tbody tr").Select(r => r.GetAttribute("data-column")).ToList();
        Assert.Equal(["x", "y", "colour", "label"], columns);
        Assert.Contains("numeric", page.Find("[data-testid=columns-table] tr[data-column=x]").TextContent);
        Assert.NotNull(page.Find("[data-testid=class-chart]"));
        Assert.Empty(page.FindAll("[data-testid=missing-chart]"));
        Assert.Equal(20, page.FindAll("[data-testid=preview-table] tbody tr").Count); // the profile keeps the first 20
        Assert.Equal($"runs/new?dataset={version.DatasetId}&version=1", page.Find("[data-testid=new-run]").GetAttribute("href"));
    }

    [Fact]
    public async Task The_class_chart_is_a_bar_per_class_with_its_count()
    {
        var version = await IngestCsvAsync("points", TestData.SeparableCsv(100));
        var page = RenderDetail(version.DatasetId);
        var chart = page.FindComponents<PortalChart>().Single(c => c.Instance.TestId == "class-chart");
        var bar = Assert.IsType<Plotly.Blazor.Traces.Bar>(Assert.Single(chart.Instance.Data));
        Assert.Equal(["high", "low"], bar.X!.Cast<string>());
        var profile = DatasetIngest.ReadProfile(version);
        Assert.Equal([profile.ClassCounts["high"], profile.ClassCounts["low"]], bar.Y!.Cast<int>());
        Assert.Equal(100, bar.Y!.Cast<int>().Sum());
    }

    [Fact]
    public async Task Missing_cells_are_counted_and_shared_per_column_with_a_chart()
    {
        var version = await IngestCsvAsync("holes", CsvWithMissing());
        var page = RenderDetail(version.DatasetId);
        Assert.Equal("1", page.Find("[data-testid=missing-x]").GetAttribute("data-value"));
        Assert.Equal("1", page.Find("[data-testid=missing-y]").GetAttribute("data-value"));
        Assert.Equal("1", page.Find("[data-testid=missing-colour]").GetAttribute("data-value"));
        Assert.Equal("0", page.Find("[data-testid=missing-label]").GetAttribute("data-value"));
        Assert.Equal("0.2", page.Find("[data-testid=missing-share-x]").GetAttribute("data-value"));
        Assert.Contains("20.0%", page.Find("[data-testid=missing-share-x]").TextContent);
        Assert.Contains("3 (15.0% of all cells)", page.Find("[data-testid=dataset-missing]").TextContent);
        var chart = page.FindComponents<PortalChart>().Single(c => c.Instance.TestId == "missing-chart");
        var bar = Assert.IsType<Plotly.Blazor.Traces.Bar>(Assert.Single(chart.Instance.Data));
        Assert.Equal(["x", "y", "colour"], bar.Y!.Cast<string>());
        Assert.Equal([0.2, 0.2, 0.2], bar.X!.Cast<double>());
    }

    [Fact]
    public async Task A_csv_read_without_its_first_line_says_so_and_shows_the_skipped_line()
    {
        var version = await IngestCsvAsync("iris", "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n6.4,3.2,4.5,1.5,1\n",
            new CsvUploadOptions { Header = CsvHeaderMode.SkipFirstRow });
        var page = RenderDetail(version.DatasetId);
        Assert.Equal(nameof(CsvHeaderMode.SkipFirstRow), page.Find("[data-testid=dataset-header-mode]").GetAttribute("data-mode"));
        Assert.Contains("Line 1 described the file and was skipped", page.Find("[data-testid=dataset-header-mode]").TextContent);
        Assert.Contains("150,4,setosa,versicolor,virginica", page.Find("[data-testid=dataset-skipped-line]").TextContent);
        Assert.Equal(["column_1", "column_2", "column_3", "column_4", "column_5"],
            page.FindAll("[data-testid=columns-table] tbody tr").Select(r => r.GetAttribute("data-column")));
    }

    [Fact]
    public async Task An_idx_dataset_shows_sample_images_with_their_class_names()
    {
        var version = await IngestIdxAsync("digits", 30, ["zero", "one", "two"]);
        var page = RenderDetail(version.DatasetId);
        page.WaitForAssertion(() => Assert.Equal(24, page.FindAll("[data-testid=sample-grid] img").Count), TimeSpan.FromSeconds(10));
        var images = page.FindAll("[data-testid=sample-grid] img");
        Assert.Equal($"/api/v1/datasets/{version.DatasetId}/versions/1/samples/0.png", images[0].GetAttribute("src"));
        Assert.Equal("Sample 1: one", images[1].GetAttribute("alt"));
        Assert.Contains("Images (IDX)", page.Find("[data-testid=dataset-profile]").TextContent);
        Assert.Contains("1 × 28 × 28", page.Find("[data-testid=dataset-profile]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=preview-table]"));
    }

    [Fact]
    public async Task An_older_version_can_be_shown_and_the_versions_are_listed()
    {
        var first = await IngestCsvAsync("points", TestData.SeparableCsv(40));
        await IngestCsvAsync("points", TestData.SeparableCsv(80));
        var page = RenderDetail(first.DatasetId, version: 1);
        Assert.Equal("40", page.Find("[data-testid=dataset-rows]").GetAttribute("data-value"));
        Assert.Contains("v1", page.Find("[data-testid=dataset-name]").TextContent);
        var versions = page.Find("[data-testid=dataset-versions]");
        Assert.Contains("80 rows", versions.TextContent);
        Assert.Equal($"datasets/{first.DatasetId}?version=2", versions.QuerySelector("a")!.GetAttribute("href"));
    }

    [Fact]
    public void An_unknown_dataset_is_reported()
    {
        var page = RenderDetail(404);
        Assert.Contains("Dataset 404 was not found.", page.Find("[data-testid=dataset-not-found]").TextContent);
    }

    [Fact]
    public async Task The_page_speaks_chinese_in_zh_CN()
    {
        var version = await IngestCsvAsync("holes", CsvWithMissing());
        UseCulture(PortalCultures.Chinese);
        var page = RenderDetail(version.DatasetId);
        var text = page.Markup;
        Assert.Contains("概况", text);
        Assert.Contains("类别分布", text);
        Assert.Contains("缺失比例", text);
        Assert.Contains("各列缺失值", text);
        Assert.Contains("数值型", page.Find("[data-testid=columns-table] tr[data-column=x]").TextContent);
        Assert.Contains("用此数据集新建运行", page.Find("[data-testid=new-run]").TextContent);
        Assert.DoesNotContain("Class balance", text);
        Assert.DoesNotContain("Missing share", text);
    }
}
