using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>
/// The run page of a run logged through the tracking API, in a real Chromium: a point logged while the page is
/// open reaches its chart and the latest-metrics table without a reload, and the page speaks Chinese in zh-CN.
/// </summary>
public sealed class RunPageTests(ITestOutputHelper output)
{
    private static async Task<JsonElement> PostAsync(PortalProcess portal, string path, object body)
    {
        using var response = await portal.Http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static Task LogAsync(PortalProcess portal, int run, params (string Key, double Value, long Step)[] points) =>
        PostAsync(portal, $"/api/v1/runs/{run}/log-batch", new { metrics = points.Select(p => new { key = p.Key, value = p.Value, step = p.Step }) });

    [Fact]
    public async Task A_logged_point_reaches_the_open_run_page_and_its_latest_metrics_and_the_page_speaks_chinese()
    {
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        var experiment = (await PostAsync(portal, "/api/v1/experiments", new { name = "tracked study" })).GetProperty("id").GetInt32();
        var run = (await PostAsync(portal, $"/api/v1/experiments/{experiment}/runs",
            new { name = "logged from a notebook", @params = new { lr = 0.01, layers = 3 } })).GetProperty("id").GetInt32();
        await LogAsync(portal, run, Enumerable.Range(1, 20).Select(i => ("loss", 2.0 / i, (long)i)).ToArray());

        await using var browser = await BrowserSession.StartAsync(portal.BaseUrl);
        var page = browser.Page;
        var journey = new Journey(page, portal, output, browser.Errors);
        const string Plotted = "() => document.querySelector('[data-testid=metric-chart-loss] .js-plotly-plot')?.data?.[0]?.x?.length ?? -1";

        await journey.Step("open the run page: the chart, the params and the latest value", async () =>
        {
            await journey.OpenAsync($"/runs/{run}");
            await Assertions.Expect(page.Locator("[data-testid=metric-chart-loss][data-chart-ready=true]")).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 });
            Assert.Equal(20, await page.EvaluateAsync<int>(Plotted));
            await Assertions.Expect(page.Locator("[data-testid=run-latest-metrics] tr[data-metric=loss]")).ToHaveAttributeAsync("data-step", "20");
            await Assertions.Expect(page.Locator("[data-testid=run-params] tr[data-param=lr]")).ToContainTextAsync("0.01");
            await Assertions.Expect(page.GetByTestId("run-experiment")).ToHaveTextAsync("tracked study");
        });

        await journey.Step("a point logged now is plotted and listed without a reload", async () =>
        {
            await page.EvaluateAsync("() => window.__marker = 1");
            await LogAsync(portal, run, ("loss", 0.05, 21), ("accuracy", 0.9, 21));
            await page.WaitForFunctionAsync($"() => ({Plotted})() === 21", null, new PageWaitForFunctionOptions { Timeout = 10_000, PollingInterval = 20 });
            await Assertions.Expect(page.Locator("[data-testid=run-latest-metrics] tr[data-metric=loss]")).ToHaveAttributeAsync("data-step", "21");
            // A metric first logged now gets its own chart.
            await Assertions.Expect(page.Locator("[data-testid=run-latest-metrics] tr[data-metric=accuracy]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-testid=metric-chart-accuracy]")).ToBeVisibleAsync();
            Assert.Equal(1, await page.EvaluateAsync<int>("() => window.__marker"));
        });

        await journey.Step("the page in Chinese, dark", async () =>
        {
            await page.Context.AddCookiesAsync([new Cookie { Name = "modelops.theme", Value = "dark", Url = portal.BaseUrl }]);
            await journey.OpenAsync($"/ui/culture?culture=zh-CN&redirect=/runs/{run}");
            await Assertions.Expect(page.Locator("body")).ToContainTextAsync("最新指标");
            await Assertions.Expect(page.Locator("body")).ToContainTextAsync("参数");
            await Assertions.Expect(page.GetByTestId("run-status")).ToHaveTextAsync("运行中");
            await Assertions.Expect(page.Locator("body")).Not.ToContainTextAsync("Latest metrics");
            // The chart follows the dark theme: light text on a transparent background.
            await Assertions.Expect(page.Locator("[data-testid=metric-chart-loss][data-chart-ready=true]")).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 });
            var font = await page.EvaluateAsync<string>("() => document.querySelector('[data-testid=metric-chart-loss] .js-plotly-plot')._fullLayout.font.color");
            Assert.Equal("#e0e0e0", font);
        });
        Assert.Empty(browser.Errors);
    }
}
