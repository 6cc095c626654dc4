using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>
/// The tracking pages in a real Chromium against the real portal: thirty runs logged over the REST API, then
/// searched, sorted, paged, given a column, saved as a view and compared, as a user does it.
/// </summary>
public sealed class TrackingPagesTests(ITestOutputHelper output)
{
    private const int RunCount = 30;
    private const int LongCurvePoints = 2_000;

    /// <summary>The plotly graph div inside a PortalChart wrapper (it holds the figure's data), as a JS expression on <c>e</c>.</summary>
    private const string Plot = "e.querySelector('.js-plotly-plot')";

    private static string Optimizer(int i) => i % 2 == 0 ? "adam" : "sgd";
    private static double ValAccuracy(int i) => 0.5 + 0.015 * i;
    private static string Name(int i) => $"run-{i:00}";

    /// <summary>The page's URL once it is ordered by <paramref name="column"/>, however the space is encoded.</summary>
    private static Regex SortedBy(string column, string direction) =>
        new($"order={Regex.Escape(column)}(%20|\\+){direction}");

    [Fact]
    public async Task A_user_filters_sorts_pages_saves_a_view_and_compares_tracked_runs()
    {
        var clock = Stopwatch.StartNew();
        var shots = Directory.CreateDirectory(Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots")).FullName;
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        var (experimentId, runIds) = await SeedAsync(portal.Http);
        output.WriteLine($"Seeded experiment {experimentId} with {RunCount} runs by {clock.Elapsed.TotalSeconds:0.0}s");

        await using var browser = await BrowserSession.StartAsync(portal.BaseUrl);
        var page = browser.Page;
        var journey = new Journey(page, portal, output, browser.Errors);
        var table = page.GetByTestId("runs-grid");
        var rows = table.Locator("tr.run-row");
        var total = page.GetByTestId("run-total");
        var experimentsUrl = $"/experiments?experiment={experimentId}";

        await journey.Step("open the experiment: 30 runs, the first page of 25, default columns", async () =>
        {
            var watch = Stopwatch.StartNew();
            await page.GotoAsync(experimentsUrl);
            await Assertions.Expect(rows).ToHaveCountAsync(25);
            output.WriteLine($"First screen (prerendered rows visible) after {watch.ElapsedMilliseconds} ms; server: {await page.GetByTestId("query-ms").InnerTextAsync()}");
            await journey.OpenAsync(experimentsUrl);
            await Assertions.Expect(total).ToHaveAttributeAsync("data-value", RunCount.ToString(CultureInfo.InvariantCulture));
            await Assertions.Expect(rows).ToHaveCountAsync(25);
            foreach (var column in new[] { "metrics.val_accuracy", "metrics.test_accuracy", "metrics.loss", "params.optimizer", "params.learning_rate" })
                await Assertions.Expect(page.GetByTestId($"sort-{column}")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("sort-params.layers")).ToHaveCountAsync(0);
            // Newest first by default.
            await Assertions.Expect(rows.First.GetByTestId("run-name-cell")).ToHaveTextAsync(Name(RunCount - 1));
        });

        await journey.Step("filter with the filter language and see the count", async () =>
        {
            const string filter = "metrics.val_accuracy > 0.81 and params.optimizer = 'adam'";
            var expected = Enumerable.Range(0, RunCount).Count(i => ValAccuracy(i) > 0.81 && Optimizer(i) == "adam");
            await page.GetByTestId("run-filter").FillAsync(filter);
            await page.GetByTestId("run-filter").PressAsync("Enter");
            await Assertions.Expect(total).ToHaveAttributeAsync("data-value", expected.ToString(CultureInfo.InvariantCulture));
            await Assertions.Expect(rows).ToHaveCountAsync(expected);
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("filter="));
            foreach (var cell in await rows.Locator("[data-col='params.optimizer']").AllInnerTextsAsync()) Assert.Equal("adam", cell);
        });

        await journey.Step("a filter with a syntax error shows the position and changes nothing else", async () =>
        {
            var urlBefore = page.Url;
            var totalBefore = await total.GetAttributeAsync("data-value");
            await page.GetByTestId("run-filter").FillAsync("metrics.val_accuracy > ");
            await page.GetByTestId("run-filter-apply").ClickAsync();
            var error = page.GetByTestId("run-filter-error");
            await Assertions.Expect(error).ToContainTextAsync("Position 24");
            output.WriteLine($"Syntax error shown: {await error.InnerTextAsync()}");
            Assert.Equal(urlBefore, page.Url);
            await Assertions.Expect(total).ToHaveAttributeAsync("data-value", totalBefore!);
            await page.GetByTestId("run-filter-clear").ClickAsync();
            await Assertions.Expect(total).ToHaveAttributeAsync("data-value", RunCount.ToString(CultureInfo.InvariantCulture));
            await Assertions.Expect(error).ToBeEmptyAsync();
        });

        await journey.Step("sort by a metric column, both ways", async () =>
        {
            await page.GetByTestId("sort-metrics.val_accuracy").ClickAsync();
            // The URL changes last, and the newest run is already first by the default order,
            // so wait on the URL and the arrow before looking at the rows.
            await Assertions.Expect(page).ToHaveURLAsync(SortedBy("metrics.val_accuracy", "DESC"));
            await Assertions.Expect(page.GetByTestId("sort-metrics.val_accuracy")).ToContainTextAsync("▼");
            await Assertions.Expect(rows.First.GetByTestId("run-name-cell")).ToHaveTextAsync(Name(RunCount - 1));
            await page.GetByTestId("sort-metrics.val_accuracy").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(SortedBy("metrics.val_accuracy", "ASC"));
            await Assertions.Expect(rows.First.GetByTestId("run-name-cell")).ToHaveTextAsync(Name(0));
            await Assertions.Expect(rows.Nth(1).GetByTestId("run-name-cell")).ToHaveTextAsync(Name(1));
        });

        await journey.Step("page forward and back by cursor", async () =>
        {
            await page.GetByTestId("page-next").ClickAsync();
            await Assertions.Expect(rows).ToHaveCountAsync(RunCount - 25);
            await Assertions.Expect(page.GetByTestId("page-info")).ToHaveAttributeAsync("data-page", "2");
            await Assertions.Expect(rows.First.GetByTestId("run-name-cell")).ToHaveTextAsync(Name(25));
            await Assertions.Expect(page.GetByTestId("page-next")).ToBeDisabledAsync();
            await page.GetByTestId("page-prev").ClickAsync();
            await Assertions.Expect(rows).ToHaveCountAsync(25);
            await Assertions.Expect(page.GetByTestId("page-info")).ToHaveAttributeAsync("data-page", "1");
            await Assertions.Expect(rows.First.GetByTestId("run-name-cell")).ToHaveTextAsync(Name(0));
            await Assertions.Expect(page.GetByTestId("page-prev")).ToBeDisabledAsync();
        });

        await journey.Step("add a param column from the picker", async () =>
        {
            await page.GetByTestId("column-picker-toggle").ClickAsync();
            await page.GetByTestId("column-option-params.layers").CheckAsync(new() { Force = true });
            await Assertions.Expect(page.GetByTestId("sort-params.layers")).ToBeVisibleAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"params\.layers"));
            // Run 0 is first (val_accuracy ascending is kept): layers = 1 + 0 % 3.
            await Assertions.Expect(rows.First.Locator("[data-col='params.layers']")).ToHaveTextAsync("1");
            await Assertions.Expect(rows.Nth(2).Locator("[data-col='params.layers']")).ToHaveTextAsync("3");
        });

        string sharedLink = "";
        await journey.Step("save a view, then reopen it from the list and by its link", async () =>
        {
            await page.GetByTestId("run-filter").FillAsync("params.optimizer = 'sgd'");
            await page.GetByTestId("run-filter").PressAsync("Enter");
            await Assertions.Expect(total).ToHaveAttributeAsync("data-value", "15");
            await page.GetByTestId("view-name").FillAsync("sgd runs");
            await page.GetByTestId("save-view").ClickAsync();
            await Assertions.Expect(page.GetByTestId("saved-view-sgd runs")).ToBeVisibleAsync();
            await page.GetByTestId("copy-link").ClickAsync();
            sharedLink = await page.GetByTestId("share-link").InputValueAsync();
            output.WriteLine($"Shared link: {sharedLink}");
            Assert.StartsWith(portal.BaseUrl, sharedLink);

            // From a clean page, the saved view brings back filter, order and columns.
            await journey.OpenAsync(experimentsUrl);
            await Assertions.Expect(total).ToHaveAttributeAsync("data-value", "30");
            await page.GetByTestId("saved-view-sgd runs").ClickAsync();
            await Assertions.Expect(total).ToHaveAttributeAsync("data-value", "15");
            await Assertions.Expect(page.GetByTestId("run-filter")).ToHaveValueAsync("params.optimizer = 'sgd'");
            await Assertions.Expect(page.GetByTestId("sort-params.layers")).ToBeVisibleAsync();
            await Assertions.Expect(rows.First.GetByTestId("run-name-cell")).ToHaveTextAsync(Name(1));

            // And the copied link, opened fresh, shows the same.
            await journey.OpenAsync(sharedLink);
            await Assertions.Expect(total).ToHaveAttributeAsync("data-value", "15");
            await Assertions.Expect(rows.First.GetByTestId("run-name-cell")).ToHaveTextAsync(Name(1));
            await Assertions.Expect(page.GetByTestId("sort-params.layers")).ToBeVisibleAsync();
            await journey.ScreenshotWholePageAsync(Path.Combine(shots, "experiments.png"));
        });

        await journey.Step("select three runs and open Compare", async () =>
        {
            await journey.OpenAsync($"{experimentsUrl}&size=50");
            await Assertions.Expect(rows).ToHaveCountAsync(RunCount);
            await Assertions.Expect(page.GetByTestId("compare")).ToBeDisabledAsync();
            foreach (var i in new[] { 0, 1, 2 }) await page.GetByTestId($"select-run-{runIds[i]}").CheckAsync(new() { Force = true });
            await Assertions.Expect(page.GetByTestId("compare")).ToContainTextAsync("Compare (3)");
            await page.GetByTestId("compare").ClickAsync();
            // Blazor navigates in the page (history API): no load event to wait for, so poll the address.
            await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/compare\\?runs={runIds[0]},{runIds[1]},{runIds[2]}$"));
        });

        await journey.Step("the compare page shows curves, parallel coordinates, a scatter and the differences", async () =>
        {
            var curves = page.GetByTestId("curves-chart");
            // The box says how many points it was given; the PortalChart inside says when plotly has drawn them.
            await page.WaitForFunctionAsync("() => Number(document.querySelector('[data-testid=curves-chart]')?.dataset.points ?? 0) > 0"
                + " && document.querySelector('[data-testid=curves-plot]')?.dataset.chartReady === 'true'");
            var lengths = await curves.EvaluateAsync<int[]>($"e => {Plot}.data.map(t => t.x.length)");
            var names = await curves.EvaluateAsync<string[]>($"e => {Plot}.data.map(t => t.name)");
            output.WriteLine($"Curves: {string.Join(", ", names.Zip(lengths, (n, l) => $"{n}: {l} points"))}");
            Assert.Equal([$"{Name(0)} (#{runIds[0]})", $"{Name(1)} (#{runIds[1]})", $"{Name(2)} (#{runIds[2]})"], names);
            // The default curve is val_accuracy (common to all three, 10 steps each).
            Assert.Equal([10, 10, 10], lengths);
            // Run 0 logged 2,000 loss points: the browser gets 500 of them (LTTB on the server); the others logged 50.
            await page.GetByTestId("curve-metric").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "loss", Exact = true }).ClickAsync();
            await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=curves-chart]')?.dataset.points === '600'"
                + " && document.querySelector('[data-testid=curves-plot]')?.dataset.chartReady === 'true'");
            lengths = await curves.EvaluateAsync<int[]>($"e => {Plot}.data.map(t => t.x.length)");
            output.WriteLine($"Loss curves: {string.Join(", ", lengths)} points; {await page.GetByTestId("compare-timing").InnerTextAsync()}");
            Assert.Equal([500, 50, 50], lengths);

            var parcoords = page.GetByTestId("parcoords-chart");
            await Assertions.Expect(parcoords).ToHaveAttributeAsync("data-chart-ready", "true");
            Assert.Equal("parcoords", await parcoords.EvaluateAsync<string>($"e => {Plot}.data[0].type"));
            var labels = await parcoords.EvaluateAsync<string[]>($"e => {Plot}.data[0].dimensions.map(d => d.label)");
            output.WriteLine($"Parallel coordinates: {string.Join(" | ", labels)}");
            Assert.Equal(["layers", "learning_rate", "optimizer", "val_accuracy"], labels);
            var optimizerTicks = await parcoords.EvaluateAsync<string[]>($"e => {Plot}.data[0].dimensions[2].ticktext");
            Assert.Equal(["adam", "sgd"], optimizerTicks);

            var scatter = page.GetByTestId("scatter-chart");
            await Assertions.Expect(page.GetByTestId("scatter-box")).ToHaveAttributeAsync("data-points", "3");
            await Assertions.Expect(scatter).ToHaveAttributeAsync("data-chart-ready", "true");
            var hover = await scatter.EvaluateAsync<string[]>($"e => {Plot}.data[0].text");
            Assert.Contains($"{Name(2)} (#{runIds[2]})", hover);
            var y = await scatter.EvaluateAsync<double[]>($"e => {Plot}.data[0].y");
            Assert.Equal([ValAccuracy(0), ValAccuracy(1), ValAccuracy(2)], y.Select(v => Math.Round(v, 6)));

            // batch_size is 32 for every run: hidden while only differences show.
            var diff = page.GetByTestId("diff-table");
            await Assertions.Expect(diff.GetByTestId("diff-row-params.optimizer").Locator("td")).ToHaveTextAsync(["adam", "sgd", "adam"]);
            await Assertions.Expect(diff.GetByTestId("diff-row-params.batch_size")).ToHaveCountAsync(0);
            await Assertions.Expect(diff.GetByTestId("diff-row-metrics.val_accuracy").Locator("td")).ToHaveTextAsync(["0.5", "0.515", "0.53"]);
            await page.GetByTestId("only-differences").UncheckAsync(new() { Force = true });
            await Assertions.Expect(diff.GetByTestId("diff-row-params.batch_size").Locator("td")).ToHaveTextAsync(["32", "32", "32"]);
            await page.WaitForTimeoutAsync(500); // plotly's resize after the cards settled
            await journey.ScreenshotWholePageAsync(Path.Combine(shots, "compare.png"));
        });

        await journey.Step("more than 100 runs is a clear message", async () =>
        {
            await journey.OpenAsync("/compare?runs=" + string.Join(',', Enumerable.Range(1, 101)));
            await Assertions.Expect(page.GetByTestId("compare-problem")).ToContainTextAsync("at most 100 runs");
        });

        await journey.Step("a new user creates an experiment on the page: the API's rule under the name, then it is selected", async () =>
        {
            await journey.OpenAsync(experimentsUrl);
            await page.GetByTestId("new-experiment").ClickAsync();
            var problem = page.GetByTestId("new-experiment-name-problem");
            await page.GetByTestId("new-experiment-create").ClickAsync();
            await Assertions.Expect(problem).ToHaveTextAsync("An experiment name is required.");
            await page.GetByTestId("new-experiment-name").FillAsync("tracking-e2e");
            await page.GetByTestId("new-experiment-create").ClickAsync();
            await Assertions.Expect(problem).ToHaveTextAsync("An experiment named 'tracking-e2e' exists already.");
            await page.GetByTestId("new-experiment-name").FillAsync("made-in-the-browser");
            await page.GetByTestId("new-experiment-description").FillAsync("Created from the Experiments page");
            await page.GetByTestId("new-experiment-create").ClickAsync();
            await Assertions.Expect(page.GetByTestId("new-experiment-name")).ToHaveCountAsync(0);
            var list = await portal.Http.GetFromJsonAsync<JsonElement>("/api/v1/experiments");
            var created = list.EnumerateArray().Single(e => e.GetProperty("name").GetString() == "made-in-the-browser");
            Assert.Equal("Created from the Experiments page", created.GetProperty("description").GetString());
            await Assertions.Expect(page).ToHaveURLAsync(new Regex($"experiment={created.GetProperty("id").GetInt32()}(&|$)"));
            await Assertions.Expect(page.GetByTestId("experiment-picker")).ToHaveValueAsync("made-in-the-browser (0)");
            await Assertions.Expect(total).ToHaveAttributeAsync("data-value", "0");
            await Assertions.Expect(page.GetByTestId("no-runs")).ToBeVisibleAsync();
        });

        await journey.Step("create an API token (its secret shown once) and revoke it after confirming", async () =>
        {
            await journey.OpenAsync("/tokens");
            await page.GetByTestId("token-name").FillAsync("browser journey");
            await page.GetByTestId("token-create").ClickAsync();
            await Assertions.Expect(page.GetByTestId("token-secret")).ToContainTextAsync("mop_");
            var list = page.GetByTestId("token-list");
            await Assertions.Expect(list).ToContainTextAsync("browser journey");
            await page.Locator("[data-testid^=token-revoke-]").First.ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await Assertions.Expect(dialog).ToContainTextAsync("browser journey");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid^=token-revoked-]")).ToHaveCountAsync(1);
            await journey.OpenAsync("/tokens");
            await Assertions.Expect(page.GetByTestId("token-secret")).ToHaveCountAsync(0);
        });

        await journey.Step("time the warm pages", async () =>
        {
            // The rows and the compare table are in the prerendered HTML: time until they are on screen.
            var watch = Stopwatch.StartNew();
            await page.GotoAsync(experimentsUrl);
            await Assertions.Expect(rows).ToHaveCountAsync(25);
            output.WriteLine($"Experiments page, warm: rows on screen after {watch.ElapsedMilliseconds} ms ({await page.GetByTestId("query-ms").InnerTextAsync()} on the server)");
            watch.Restart();
            await page.GotoAsync($"/compare?runs={string.Join(',', runIds)}");
            await Assertions.Expect(page.GetByTestId("diff-table").Locator("thead th")).ToHaveCountAsync(RunCount + 1);
            var tableMs = watch.ElapsedMilliseconds;
            await page.WaitForFunctionAsync($"() => document.querySelector('[data-testid=curves-plot] .js-plotly-plot')?.data?.length === {RunCount}"
                + " && [...document.querySelectorAll('.portal-chart')].every(c => c.dataset.chartReady === 'true')");
            output.WriteLine($"Compare {RunCount} runs, warm: table after {tableMs} ms, curves drawn after {watch.ElapsedMilliseconds} ms ({await page.GetByTestId("compare-timing").InnerTextAsync()})");
        });

        await journey.Step("the tracking pages in Chinese", async () =>
        {
            await journey.OpenAsync($"/ui/culture?culture=zh-CN&redirect={Uri.EscapeDataString(experimentsUrl)}");
            await Assertions.Expect(page.GetByTestId("new-experiment")).ToContainTextAsync("新建实验");
            await Assertions.Expect(total).ToContainTextAsync("30 个运行");
            await Assertions.Expect(page.GetByTestId("page-info")).ToContainTextAsync("第 1 页");
            await journey.OpenAsync($"/compare?runs={runIds[0]},{runIds[1]},{runIds[2]}");
            await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("对比 3 个运行");
            await journey.OpenAsync("/tokens");
            await Assertions.Expect(page.GetByTestId("token-create")).ToContainTextAsync("创建令牌");
            await journey.OpenAsync($"/ui/culture?culture=en&redirect={Uri.EscapeDataString(experimentsUrl)}");
            await Assertions.Expect(page.GetByTestId("new-experiment")).ToContainTextAsync("New experiment");
        });

        lock (browser.Errors)
            if (browser.Errors.Count > 0) output.WriteLine("Browser errors:\n" + string.Join("\n", browser.Errors));
        output.WriteLine($"Done in {clock.Elapsed.TotalSeconds:0.0}s");
    }

    /// <summary>An experiment with 30 tracked runs; run i has optimizer adam/sgd alternating, a learning rate, a constant
    /// batch size, layers 1–3, a loss curve (2,000 points for run 0, 50 for the others) and val_accuracy ending at 0.5 + 0.015i.</summary>
    private static async Task<(int ExperimentId, int[] RunIds)> SeedAsync(HttpClient http)
    {
        var experiment = await PostAsync(http, "/api/v1/experiments", new { name = "tracking-e2e", description = "Browser test" });
        var experimentId = experiment.GetProperty("id").GetInt32();
        var ids = new int[RunCount];
        for (var i = 0; i < RunCount; i++)
        {
            var run = await PostAsync(http, $"/api/v1/experiments/{experimentId}/runs", new
            {
                name = Name(i),
                @params = new Dictionary<string, string>
                {
                    ["optimizer"] = Optimizer(i),
                    ["learning_rate"] = (0.001 * (i + 1)).ToString("0.###", CultureInfo.InvariantCulture),
                    ["batch_size"] = "32",
                    ["layers"] = (1 + i % 3).ToString(CultureInfo.InvariantCulture),
                },
            });
            ids[i] = run.GetProperty("id").GetInt32();
            var steps = i == 0 ? LongCurvePoints : 50;
            var rate = 0.1 * (1 + i * 0.05);
            for (var from = 0; from < steps; from += 900)
            {
                var metrics = Enumerable.Range(from, Math.Min(900, steps - from))
                    .Select(s => new { key = "loss", value = 1.0 / (1 + s * rate) + (s % 97 == 0 ? 0.2 : 0), step = (long)s })
                    .ToList();
                if (from == 0)
                {
                    metrics.AddRange(Enumerable.Range(0, 10).Select(s => new { key = "val_accuracy", value = s == 9 ? ValAccuracy(i) : ValAccuracy(i) * (0.5 + 0.05 * s), step = (long)s }));
                    metrics.Add(new { key = "test_accuracy", value = ValAccuracy(i) - 0.05, step = 0L });
                }
                await PostAsync(http, $"/api/v1/runs/{ids[i]}/log-batch", new { metrics }, HttpStatusCode.NoContent);
            }
            if (i % 3 != 2)
                await SendAsync(http, HttpMethod.Patch, $"/api/v1/runs/{ids[i]}", new { status = "Finished" });
        }
        return (experimentId, ids);
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, object body, HttpStatusCode expected = HttpStatusCode.Created) =>
        await SendAsync(http, HttpMethod.Post, path, body, expected);

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, object body, HttpStatusCode? expected = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected is null ? response.IsSuccessStatusCode : response.StatusCode == expected,
            $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}
