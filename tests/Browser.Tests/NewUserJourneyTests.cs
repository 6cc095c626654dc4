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
/// The whole loop as a new user walks it, in a real Chromium against the real portal process:
/// upload a CSV, start a run, watch it learn live, register, promote, and call the served model.
/// </summary>
public sealed partial class NewUserJourneyTests(ITestOutputHelper output)
{
    private const string ModelName = "points-model";
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_new_user_uploads_a_csv_trains_a_model_watches_it_learn_live_then_registers_promotes_and_serves_it()
    {
        var clock = Stopwatch.StartNew();
        // A clean clone has no artifacts folder yet; an earlier failed run may have left a failure.png.
        var screenshots = Directory.CreateDirectory(Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots")).FullName;
        File.Delete(Path.Combine(screenshots, "failure.png"));
        using var data = new TempFolder();
        using var files = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        output.WriteLine($"Portal at {portal.BaseUrl} after {clock.Elapsed.TotalSeconds:0.0}s");

        await using var browser = await BrowserSession.StartAsync(portal.BaseUrl);
        var page = browser.Page;
        var browserErrors = browser.Errors;

        var journey = new Journey(page, portal, output, browserErrors);

        // 1. Upload a CSV from the Datasets page; the portal takes the user to the new dataset.
        var csvPath = Path.Combine(files.Path, "points.csv");
        await File.WriteAllTextAsync(csvPath, TestData.SeparableCsv(400));
        var datasetId = await journey.Step("upload a CSV through the Datasets page", async () =>
        {
            await journey.OpenAsync("/datasets");
            await journey.ChooseCsvAsync(csvPath);
            // The service's preview names the header's columns before anything is stored.
            await Assertions.Expect(page.GetByTestId("csv-column-4")).ToHaveValueAsync("label");
            await journey.FillAsync("csv-name", "points");
            await journey.FillAsync("csv-label", "label");
            await page.GetByTestId("csv-submit").ClickAsync();
            await page.WaitForURLAsync(DatasetPage(), new PageWaitForURLOptions { Timeout = 60_000 });
            var id = int.Parse(DatasetPage().Match(page.Url).Groups[1].Value, CultureInfo.InvariantCulture);
            await Assertions.Expect(page.GetByTestId("dataset-name")).ToContainTextAsync("points");
            await Assertions.Expect(page.GetByTestId("dataset-rows")).ToContainTextAsync("400");
            // And it is listed on the Datasets page.
            await journey.OpenAsync("/datasets");
            await Assertions.Expect(page.GetByTestId("dataset-link-points")).ToBeVisibleAsync();
            return id;
        });

        // 2. Start a run from the New Run form: an MLP, small batches and enough epochs to watch it grow.
        var runId = await journey.Step("start a run from the New Run form", async () =>
        {
            await journey.OpenAsync($"/runs/new?dataset={datasetId}");
            await Assertions.Expect(page.Locator("[data-testid=run-dataset] input").First).ToHaveValueAsync(new Regex("^points v1 "));
            await Assertions.Expect(page.Locator("[data-testid=run-template]")).ToContainTextAsync("mlp");
            // The run goes to the Default experiment unless the user picks or makes another.
            await Assertions.Expect(page.Locator("[data-testid=run-experiment] input").First).ToHaveValueAsync("Default");
            await journey.FillAsync("run-epochs", "30");
            await journey.FillAsync("run-batch-size", "16");
            await journey.FillAsync("run-name", "points mlp");
            await page.GetByTestId("run-submit").ClickAsync();
            await page.WaitForURLAsync(RunPage(), new PageWaitForURLOptions { Timeout = 60_000 });
            var id = int.Parse(RunPage().Match(page.Url).Groups[1].Value, CultureInfo.InvariantCulture);
            var run = await portal.GetRunAsync(id);
            Assert.True(run.GetProperty("epochs").GetInt32() == 30 && run.GetProperty("batchSize").GetInt32() == 16,
                $"The form's values did not reach the run: {run}");
            return id;
        });
        output.WriteLine($"Run {runId} started at {clock.Elapsed.TotalSeconds:0.0}s");

        // 3. Watch the loss chart grow while the run is Running (no reload), then wait for Finished.
        await journey.Step("watch the run learn live until it finishes", async () =>
        {
            // A recorder in the page reads the plotted loss curves (plotly's own data) every 50 ms and notes each
            // change with the status and the latest-metrics table shown at that moment; the marker proves there was no reload.
            await page.EvaluateAsync(
                """
                () => {
                    window.__journey = { started: performance.now(), changes: [] };
                    const plotted = id => {
                        const plot = document.querySelector(`[data-testid=${id}] .js-plotly-plot`);
                        return plot?.data ? plot.data.reduce((n, t) => n + (t.x?.length ?? 0), 0) : undefined;
                    };
                    const note = () => {
                        const points = plotted('loss-chart');
                        const last = window.__journey.changes.at(-1);
                        if (points === undefined || (last && last.points === points)) return;
                        window.__journey.changes.push({
                            seconds: (performance.now() - window.__journey.started) / 1000,
                            points,
                            status: document.querySelector('[data-testid=run-status]')?.textContent?.trim() ?? '',
                            epoch: document.querySelector('[data-testid=run-epoch]')?.textContent?.trim() ?? '',
                            latest: document.querySelectorAll('[data-testid=run-latest-metrics] tr[data-metric]').length
                        });
                    };
                    window.__journeyTimer = setInterval(note, 50);
                    note();
                }
                """);
            var statuses = new List<string>();
            var until = DateTime.UtcNow + RunTimeout;
            string status = "";
            while (DateTime.UtcNow < until)
            {
                status = await page.EvaluateAsync<string>("() => document.querySelector('[data-testid=run-status]')?.textContent?.trim() ?? ''");
                if (statuses.Count == 0 || statuses[^1] != status) statuses.Add(status);
                if (status is "Finished" or "Failed" or "Cancelled") break;
                await Task.Delay(200);
            }
            await page.WaitForTimeoutAsync(300);
            var changes = await page.EvaluateAsync<JsonElement>("() => { clearInterval(window.__journeyTimer); return window.__journey?.changes ?? null; }");
            Assert.True(changes.ValueKind == JsonValueKind.Array, "The page was reloaded while the run was watched (the recorder is gone).");
            var timeline = changes.EnumerateArray().Select(c => (
                Seconds: c.GetProperty("seconds").GetDouble(),
                Points: c.GetProperty("points").GetInt32(),
                Status: c.GetProperty("status").GetString(),
                Epoch: c.GetProperty("epoch").GetString(),
                Latest: c.GetProperty("latest").GetInt32())).ToList();
            var seenWhileRunning = timeline.Where(c => c.Status == "Running").ToList();
            output.WriteLine($"Statuses seen: {string.Join(" -> ", statuses)}; loss-chart points: " +
                string.Join(", ", timeline.Select(c => $"{c.Seconds:0.0}s {c.Points} ({c.Status}, {c.Epoch}, {c.Latest} latest)")));
            if (status == "Failed")
            {
                var error = await page.GetByTestId("run-error").InnerTextAsync();
                throw new Xunit.Sdk.XunitException($"The run failed: {error}");
            }
            Assert.True(status == "Finished", $"The run did not finish within {RunTimeout}; last status '{status}' (seen: {string.Join(" -> ", statuses)}).");
            var running = seenWhileRunning.Select(c => c.Points).ToList();
            var increases = running.Zip(running.Skip(1)).Count(p => p.Second > p.First);
            Assert.True(running.Count >= 2 && increases >= 1,
                $"The loss chart did not grow live while the run was Running; points seen while Running: [{string.Join(", ", running)}].");
            // The latest-metrics table moved with the curves: it listed metrics while the run was still Running.
            Assert.True(seenWhileRunning.Any(c => c.Points > 0 && c.Latest > 0),
                "The latest metrics stayed empty while the curves moved.");

            await Assertions.Expect(page.GetByTestId("run-progress")).ToHaveAttributeAsync("data-value", "100");
            var accuracy = page.GetByTestId("test-accuracy");
            await Assertions.Expect(accuracy).ToBeVisibleAsync();
            var value = double.Parse(await accuracy.GetAttributeAsync("data-value") ?? "nan", CultureInfo.InvariantCulture);
            output.WriteLine($"Test accuracy {value:0.0000}");
            Assert.True(value > 0.9, $"Test accuracy {value} is not above 0.9.");
            var confusion = page.GetByTestId("confusion-chart");
            await Assertions.Expect(confusion).ToBeVisibleAsync();
            await Assertions.Expect(confusion).ToHaveAttributeAsync("data-chart-ready", "true");
            await Assertions.Expect(page.Locator("[data-testid=run-latest-metrics] tr[data-metric=val_accuracy]")).ToBeVisibleAsync();
            var finalPoints = await page.EvaluateAsync<int>("() => document.querySelector('[data-testid=loss-chart] .js-plotly-plot').data.reduce((n, t) => n + t.x.length, 0)");
            output.WriteLine($"Loss chart points when finished: {finalPoints}");
            Assert.True(finalPoints >= running.Max(), $"The loss chart shrank to {finalPoints} points after finishing.");
            var accuracyPoints = await page.EvaluateAsync<int>("() => document.querySelector('[data-testid=accuracy-chart] .js-plotly-plot').data[0].x.length");
            Assert.True(accuracyPoints == 30, $"The accuracy chart shows {accuracyPoints} points for 30 epochs.");
            // Compute and system metrics (docs/cost.md): the worker's CPU time is on the run, its samples on the System card's chart.
            var cpuTime = page.GetByTestId("run-cpu-time");
            await Assertions.Expect(cpuTime).ToHaveAttributeAsync("data-seconds", new Regex(@"^[0-9]"));
            var cpuSeconds = double.Parse(await cpuTime.GetAttributeAsync("data-seconds") ?? "nan", CultureInfo.InvariantCulture);
            output.WriteLine($"CPU core time {cpuSeconds:0.0} s");
            Assert.True(cpuSeconds > 0, $"The run's CPU core time is {cpuSeconds} s.");
            await Assertions.Expect(page.Locator("[data-testid=system-usage-chart][data-chart-ready=true]")).ToHaveCountAsync(1);
            var systemPoints = await page.EvaluateAsync<int>("() => document.querySelector('[data-testid=system-usage-chart] .js-plotly-plot').data.reduce((n, t) => n + t.x.length, 0)");
            output.WriteLine($"System chart points: {systemPoints}");
            Assert.True(systemPoints > 0, "The System card's utilisation chart has no points.");
        });
        output.WriteLine($"Run finished at {clock.Elapsed.TotalSeconds:0.0}s");

        // 4. Screenshots of the finished run (English and Chinese, light and dark, for the README) and of the Experiments page.
        var shots = Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        // The README's run-page images are copied from here into docs/images by hand: a test run leaves the tracked files alone.
        var images = Directory.CreateDirectory(Path.Combine(shots, "readme")).FullName;
        var runShot = Path.Combine(shots, "run-page.png");
        var experimentsShot = Path.Combine(shots, "experiments-page.png");
        await journey.Step("take screenshots", async () =>
        {
            async Task ShootRunPage(string culture, bool dark, string file)
            {
                await page.Context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = "modelops.theme", Value = dark ? "dark" : "light", Url = portal.BaseUrl }]);
                await journey.OpenAsync($"/ui/culture?culture={culture}&redirect=/runs/{runId}");
                await Assertions.Expect(page.Locator("[data-testid=loss-chart][data-chart-ready=true]")).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 });
                await Assertions.Expect(page.Locator("[data-testid=confusion-chart][data-chart-ready=true]")).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 });
                await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("lang", new Regex(culture == "zh-CN" ? "^zh" : "^en"));
                if (culture == "zh-CN") await Assertions.Expect(page.Locator("body")).ToContainTextAsync("最新指标");
                await page.WaitForTimeoutAsync(500); // plotly's resize after the last card appeared
                await journey.ScreenshotWholePageAsync(file);
            }
            await ShootRunPage("en", false, Path.Combine(images, "run-page-en-light.png"));
            File.Copy(Path.Combine(images, "run-page-en-light.png"), runShot, overwrite: true);
            await ShootRunPage("en", true, Path.Combine(images, "run-page-en-dark.png"));
            await ShootRunPage("zh-CN", false, Path.Combine(images, "run-page-zh-light.png"));
            await ShootRunPage("zh-CN", true, Path.Combine(images, "run-page-zh-dark.png"));
            // Back to English and light for the steps that follow.
            await page.Context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = "modelops.theme", Value = "light", Url = portal.BaseUrl }]);
            await journey.OpenAsync($"/ui/culture?culture=en&redirect=/experiments");
            await Assertions.Expect(page.Locator($"[data-testid=runs-grid] [data-testid=run-link-{runId}]")).ToBeVisibleAsync();
            await journey.ScreenshotWholePageAsync(experimentsShot);
            await journey.OpenAsync($"/runs/{runId}");
        });
        output.WriteLine($"Screenshot: {runShot}");
        output.WriteLine($"Screenshot: {experimentsShot}");
        Console.WriteLine($"Screenshot: {runShot}");
        Console.WriteLine($"Screenshot: {experimentsShot}");

        // 5. Register the model from the run page, then promote it to Production on the Models page.
        await journey.Step("register the model from the run page", async () =>
        {
            await Assertions.Expect(page.GetByTestId("run-status")).ToHaveTextAsync("Finished");
            await journey.FillAsync("register-name", ModelName);
            await journey.ClickUntilAsync("register-submit", page.GetByTestId("registered-model-link"));
            await Assertions.Expect(page.GetByTestId("registered-model-link")).ToHaveTextAsync($"{ModelName} v1");
        });
        await journey.Step("promote the model to Production", async () =>
        {
            await journey.OpenAsync("/models");
            var stage = page.GetByTestId($"stage-{ModelName}-1");
            await Assertions.Expect(stage).ToHaveTextAsync("None");
            // Production changes what the model serves, so the page asks first.
            var dialog = page.Locator(".mud-dialog");
            await journey.ClickUntilAsync($"promote-{ModelName}-1", dialog);
            await Assertions.Expect(dialog).ToContainTextAsync($"Promote {ModelName} v1 to Production?");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Promote to Production", Exact = true }).ClickAsync();
            await Assertions.Expect(stage).ToHaveTextAsync("Production");
            await Assertions.Expect(page.GetByTestId($"promote-{ModelName}-1")).ToBeDisabledAsync();
        });

        // 6. The served model answers over real HTTP, and a wrongly shaped request is a 400 problem.
        await journey.Step("call the served model over HTTP", async () =>
        {
            using var response = await portal.Http.PostAsync($"/api/v1/models/{ModelName}/predict",
                JsonContent.Create(new { inputs = new object[] { new object[] { 1.5, 1.2, "red" }, new object[] { -1.5, -1.1, "blue" } } }));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"predict: {(int)response.StatusCode} {body}");
            var json = JsonDocument.Parse(body).RootElement;
            var labels = json.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("label").GetString()).ToList();
            Assert.Equal(["high", "low"], labels);
            Assert.Equal(1, json.GetProperty("version").GetInt32());

            using var wrong = await portal.Http.PostAsync($"/api/v1/models/{ModelName}/predict",
                JsonContent.Create(new { inputs = new object[] { new object[] { 1.5, 1.2 } } }));
            var wrongBody = await wrong.Content.ReadAsStringAsync();
            Assert.True(wrong.StatusCode == HttpStatusCode.BadRequest, $"2 features: {(int)wrong.StatusCode} {wrongBody}");
            Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
            output.WriteLine($"Wrong shape: {wrongBody}");
        });

        // 7. A ragged CSV through the UI names the bad line, and adds no dataset.
        await journey.Step("upload a ragged CSV and see the error", async () =>
        {
            var raggedPath = Path.Combine(files.Path, "ragged.csv");
            await File.WriteAllTextAsync(raggedPath, "x,y,colour,label\n1.0,2.0,red,high\n3.0,4.0,blue\n-1.0,-2.0,green,low\n");
            await journey.OpenAsync("/datasets");
            await journey.ChooseCsvAsync(raggedPath);
            await journey.FillAsync("csv-name", "ragged");
            await page.GetByTestId("csv-submit").ClickAsync();
            var error = page.GetByTestId("csv-error");
            await Assertions.Expect(error).ToContainTextAsync("Line 3 has 3 fields; the header has 4.");
            Assert.EndsWith("/datasets", new Uri(page.Url).AbsolutePath);
            await journey.OpenAsync("/datasets");
            await Assertions.Expect(page.Locator("[data-testid=datasets-grid] a[data-testid^=dataset-link-]")).ToHaveCountAsync(1);
            await Assertions.Expect(page.GetByTestId("dataset-link-ragged")).ToHaveCountAsync(0);
            var datasets = JsonDocument.Parse(await portal.Http.GetStringAsync("/api/v1/datasets")).RootElement;
            var names = (datasets.ValueKind == JsonValueKind.Array ? datasets : datasets.GetProperty("items"))
                .EnumerateArray().Select(d => d.GetProperty("name").GetString()).ToList();
            Assert.Equal(["points"], names);
        });

        lock (browserErrors)
            if (browserErrors.Count > 0) output.WriteLine("Browser errors:\n" + string.Join("\n", browserErrors));
        output.WriteLine($"Done in {clock.Elapsed.TotalSeconds:0.0}s");
    }

    [GeneratedRegex(@"/datasets/(\d+)")]
    private static partial Regex DatasetPage();

    [GeneratedRegex(@"/runs/(\d+)$")]
    private static partial Regex RunPage();
}
