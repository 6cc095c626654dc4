using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>
/// The Datasets pages in a real Chromium against the real portal: a CSV with missing cells uploaded and
/// profiled with its charts drawn, iris.csv's description line skipped and its columns named in place,
/// a file the service refuses, a confirmed delete, and the pages in Chinese.
/// </summary>
public sealed partial class DatasetsPagesTests(ITestOutputHelper output)
{
    /// <summary>scikit-learn's iris.csv starts with a description line: row count, feature count, class names.</summary>
    private const string IrisLike =
        "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n7.0,3.2,4.7,1.4,1\n6.4,3.2,4.5,1.5,1\n6.3,3.3,6.0,2.5,2\n5.8,2.7,5.1,1.9,2\n";

    private static string Screenshots => Directory.CreateDirectory(Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots")).FullName;

    [Fact]
    public async Task A_user_uploads_csvs_sees_their_profile_and_charts_fixes_a_header_deletes_a_dataset_and_reads_it_in_chinese()
    {
        var clock = Stopwatch.StartNew();
        using var data = new TempFolder();
        using var files = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        await using var browser = await BrowserSession.StartAsync(portal.BaseUrl);
        var page = browser.Page;
        var journey = new Journey(page, portal, output, browser.Errors);
        output.WriteLine($"Portal at {portal.BaseUrl} after {clock.Elapsed.TotalSeconds:0.0}s");

        var weatherPath = Path.Combine(files.Path, "weather.csv");
        var weather = "temp,humidity,sky,rain\n" + string.Concat(Enumerable.Range(0, 40).Select(i =>
            string.Create(CultureInfo.InvariantCulture, $"{(i % 7 == 0 ? "" : (10 + i * 0.5).ToString("0.0", CultureInfo.InvariantCulture))},{(i % 5 == 0 ? "NA" : (40 + i).ToString(CultureInfo.InvariantCulture))},{(i % 3 == 0 ? "cloudy" : "clear")},{(i % 2 == 0 ? "yes" : "no")}\n")));
        await File.WriteAllTextAsync(weatherPath, weather);

        await journey.Step("upload a CSV with missing cells and see its profile, class balance and missing values drawn", async () =>
        {
            await journey.OpenAsync("/datasets");
            await Assertions.Expect(page.GetByTestId("no-datasets")).ToBeVisibleAsync();
            await journey.ChooseCsvAsync(weatherPath);
            await Assertions.Expect(page.GetByTestId("csv-column-1")).ToHaveValueAsync("temp");
            await Assertions.Expect(page.GetByTestId("csv-preview")).ToContainTextAsync("40 rows");
            await journey.FillAsync("csv-name", "weather");
            await page.GetByTestId("csv-submit").ClickAsync();
            await page.WaitForURLAsync(DatasetPage(), new PageWaitForURLOptions { Timeout = 60_000 });
            await Assertions.Expect(page.GetByTestId("dataset-name")).ToContainTextAsync("weather");
            await Assertions.Expect(page.GetByTestId("dataset-rows")).ToHaveAttributeAsync("data-value", "40");
            await Assertions.Expect(page.GetByTestId("missing-temp")).ToHaveAttributeAsync("data-value", "6");
            await Assertions.Expect(page.GetByTestId("missing-humidity")).ToHaveAttributeAsync("data-value", "8");
            await Assertions.Expect(page.GetByTestId("missing-share-humidity")).ToContainTextAsync("20.0%");
            await Assertions.Expect(page.GetByTestId("class-chart")).ToHaveAttributeAsync("data-chart-ready", "true", new() { Timeout = 30_000 });
            await Assertions.Expect(page.GetByTestId("missing-chart")).ToHaveAttributeAsync("data-chart-ready", "true", new() { Timeout = 30_000 });
            // Two bars in the class chart, drawn by plotly in the page.
            await Assertions.Expect(page.Locator("[data-testid=class-chart] .bars .point")).ToHaveCountAsync(2);
            await Assertions.Expect(page.Locator("[data-testid=missing-chart] .bars .point")).ToHaveCountAsync(2);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "dataset-page.png"), FullPage = true });
        });

        await journey.Step("iris.csv's description line: refused as a header, skipped, its columns named in place", async () =>
        {
            var irisPath = Path.Combine(files.Path, "iris.csv");
            await File.WriteAllTextAsync(irisPath, IrisLike);
            await journey.OpenAsync("/datasets");
            await journey.ChooseCsvAsync(irisPath);
            await Assertions.Expect(page.GetByTestId("csv-error")).ToContainTextAsync("Line 1 does not look like a header");
            await page.Locator("label:has([data-testid=csv-header-skip])").ClickAsync();
            await Assertions.Expect(page.GetByTestId("csv-column-5")).ToHaveValueAsync("column_5");
            await Assertions.Expect(page.GetByTestId("csv-error")).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("csv-skipped-line")).ToContainTextAsync("150,4,setosa,versicolor,virginica");
            await journey.FillAsync("csv-column-1", "column_2");
            await Assertions.Expect(page.GetByTestId("csv-columns-problem")).ToContainTextAsync("is given twice");
            await journey.FillAsync("csv-column-1", "sepal_length");
            await Assertions.Expect(page.GetByTestId("csv-columns-problem")).ToHaveCountAsync(0);
            await journey.FillAsync("csv-column-5", "species");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "datasets-csv-preview.png"), FullPage = true });
            await Assertions.Expect(page.GetByTestId("csv-label")).ToBeEnabledAsync();
            await page.GetByTestId("csv-submit").ClickAsync();
            await page.WaitForURLAsync(DatasetPage(), new PageWaitForURLOptions { Timeout = 60_000 });
            await Assertions.Expect(page.GetByTestId("dataset-rows")).ToHaveAttributeAsync("data-value", "6");
            await Assertions.Expect(page.GetByTestId("dataset-label")).ToHaveTextAsync("species");
            await Assertions.Expect(page.GetByTestId("dataset-header-mode")).ToHaveAttributeAsync("data-mode", "SkipFirstRow");
            await Assertions.Expect(page.Locator("[data-testid=columns-table] tr[data-column=sepal_length]")).ToHaveCountAsync(1);
            await Assertions.Expect(page.GetByTestId("class-chart")).ToHaveAttributeAsync("data-chart-ready", "true", new() { Timeout = 30_000 });
        });

        await journey.Step("a file the service refuses shows its sentence and adds nothing", async () =>
        {
            var tsvPath = Path.Combine(files.Path, "tabs.csv");
            await File.WriteAllTextAsync(tsvPath, "x\ty\tlabel\n1\t2\ta\n3\t4\tb\n");
            await journey.OpenAsync("/datasets");
            await journey.ChooseCsvAsync(tsvPath);
            await journey.FillAsync("csv-name", "tabs");
            await page.GetByTestId("csv-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("csv-error")).ToContainTextAsync("Tab-separated files are not supported yet; save the file as comma-separated CSV.");
            Assert.EndsWith("/datasets", new Uri(page.Url).AbsolutePath);
            await Assertions.Expect(page.Locator("[data-testid=datasets-grid] a[data-testid^=dataset-link-]")).ToHaveCountAsync(2);
        });

        await journey.Step("delete a dataset after confirming", async () =>
        {
            await journey.OpenAsync("/datasets");
            await page.GetByTestId("delete-iris").ClickAsync();
            var dialog = page.Locator(".mud-dialog");
            await Assertions.Expect(dialog).ToContainTextAsync("Delete dataset iris?");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
            await Assertions.Expect(dialog).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("dataset-link-iris")).ToBeVisibleAsync();
            await page.GetByTestId("delete-iris").ClickAsync();
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("dataset-link-iris")).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("dataset-link-weather")).ToBeVisibleAsync();
        });

        await journey.Step("the pages in Chinese", async () =>
        {
            await journey.OpenAsync("/ui/culture?culture=zh-CN&redirect=/datasets");
            await Assertions.Expect(page.GetByTestId("page-title")).ToHaveTextAsync("数据集");
            await Assertions.Expect(page.GetByTestId("csv-upload")).ToContainTextAsync("上传 CSV");
            await Assertions.Expect(page.GetByTestId("csv-upload")).ToContainTextAsync("第一行");
            await Assertions.Expect(page.GetByTestId("datasets-grid")).ToContainTextAsync("最新版本");
            await page.GetByTestId("dataset-link-weather").ClickAsync();
            await page.WaitForURLAsync(DatasetPage());
            await Assertions.Expect(page.GetByTestId("columns-table")).ToContainTextAsync("缺失比例");
            await Assertions.Expect(page.Locator("body")).ToContainTextAsync("类别分布");
            await Assertions.Expect(page.GetByTestId("class-chart")).ToHaveAttributeAsync("data-chart-ready", "true", new() { Timeout = 30_000 });
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "dataset-page-zh-CN.png"), FullPage = true });
        });

        lock (browser.Errors)
        {
            if (browser.Errors.Count > 0) output.WriteLine("Browser errors:\n" + string.Join("\n", browser.Errors));
            Assert.Empty(browser.Errors);
        }
        output.WriteLine($"Done in {clock.Elapsed.TotalSeconds:0.0}s");
    }

    [GeneratedRegex(@"/datasets/(\d+)")]
    private static partial Regex DatasetPage();
}
