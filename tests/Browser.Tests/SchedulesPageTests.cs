using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>
/// Scheduled retraining in a real Chromium against the real portal, its Hangfire and real workers: a
/// schedule made on the Schedules page retrains when a new version of its dataset is uploaded on the
/// Datasets page, and its gate promotes the result only when it beats Production by the margin.
/// </summary>
public sealed partial class SchedulesPageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [GeneratedRegex(@"/datasets/\d+(\?.*)?$")]
    private static partial Regex DatasetPage();

    /// <summary>Ticks a MudSwitch or MudRadio, whose test id lands on its input or on the element around it.</summary>
    private static async Task CheckAsync(IPage page, string testId)
    {
        var element = page.GetByTestId(testId);
        await element.First.WaitForAsync();
        var input = await element.First.EvaluateAsync<string>("e => e.tagName") == "INPUT" ? element.First : element.First.Locator("input");
        await input.CheckAsync();
        await Assertions.Expect(input).ToBeCheckedAsync();
    }

    [Fact]
    public async Task A_schedule_retrains_on_a_new_dataset_version_and_promotes_only_when_better()
    {
        using var data = new TempFolder();
        using var files = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");

        // Production v1 of "pts": a weak model (one epoch at a tiny learning rate) on v1 of the data.
        var v1 = (await portal.UploadCsvAsync("pts-data", TestData.SeparableCsv(300, 7))).GetProperty("id").GetInt32();
        var weak = await portal.CreateRunAsync(new { datasetVersionId = v1, template = "mlp", epochs = 1, learningRate = 0.00001, seed = 3, testFraction = 0.2 });
        var weakRun = await portal.WaitForRunAsync(weak, r => r.GetProperty("status").GetString() is "Finished" or "Failed", RunTimeout);
        Assert.Equal("Finished", weakRun.GetProperty("status").GetString());
        (await portal.Http.PostAsJsonAsync("/api/v1/models/pts/versions", new { runId = weak })).EnsureSuccessStatusCode();
        (await portal.Http.PostAsJsonAsync("/api/v1/models/pts/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();

        await using var browser = await BrowserSession.StartAsync(portal.BaseUrl);
        var page = browser.Page;
        var journey = new Journey(page, portal, output, browser.Errors);

        var scheduleId = await journey.Step("create a schedule on the Schedules page", async () =>
        {
            await journey.OpenAsync("/schedules");
            await Assertions.Expect(page.GetByTestId("schedules-empty")).ToBeVisibleAsync();
            await journey.ClickUntilAsync("schedule-new", page.GetByTestId("schedule-form"));
            await journey.FillAsync("schedule-name", "retrain-pts");
            await Assertions.Expect(page.Locator("[data-testid=schedule-dataset] input").First).ToHaveValueAsync("pts-data");
            await journey.FillAsync("schedule-target-model", "pts");
            await journey.FillAsync("schedule-epochs", "8");
            await journey.FillAsync("schedule-batch-size", "16");
            await journey.FillAsync("schedule-learning-rate", "0.01");
            // The cron preview lists the next fires of the default nightly expression.
            await Assertions.Expect(page.GetByTestId("schedule-cron-preview")).ToBeVisibleAsync();
            await CheckAsync(page, "schedule-on-new-version");
            await CheckAsync(page, "schedule-gate-promote");
            await journey.FillAsync("schedule-gate-margin", "0.05");
            await page.GetByTestId("schedule-save").ClickAsync();
            var row = page.Locator("tr[data-state]");
            await Assertions.Expect(row).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 });
            await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "active");
            var schedules = await portal.Http.GetFromJsonAsync<JsonElement[]>("/api/v1/schedules");
            var saved = Assert.Single(schedules!);
            Assert.True(saved.GetProperty("onNewDatasetVersion").GetBoolean(), saved.ToString());
            Assert.Equal(("promote", 0.05, 8), (saved.GetProperty("gateMode").GetString(), saved.GetProperty("gateMargin").GetDouble(),
                saved.GetProperty("options").GetProperty("epochs").GetInt32()));
            return saved.GetProperty("id").GetInt32();
        });

        async Task UploadVersionAsync(int seed, int expectedVersion)
        {
            var csv = Path.Combine(files.Path, $"pts-{seed}.csv");
            await File.WriteAllTextAsync(csv, TestData.SeparableCsv(300, seed));
            await journey.OpenAsync("/datasets");
            await journey.ChooseCsvAsync(csv);
            await journey.FillAsync("csv-name", "pts-data");
            await page.GetByTestId("csv-submit").ClickAsync();
            await page.WaitForURLAsync(DatasetPage(), new PageWaitForURLOptions { Timeout = 60_000 });
            var dataset = await portal.Http.GetFromJsonAsync<JsonElement[]>("/api/v1/datasets");
            Assert.Equal(expectedVersion, dataset!.Single().GetProperty("versions").GetArrayLength());
        }

        async Task<JsonElement> WaitForFireAsync(int count)
        {
            var until = DateTime.UtcNow + RunTimeout;
            while (true)
            {
                var fires = await portal.Http.GetFromJsonAsync<JsonElement[]>($"/api/v1/schedules/{scheduleId}/fires") ?? [];
                if (fires.Length == count && fires[0].GetProperty("outcome").GetString() != "pending") return fires[0];
                if (DateTime.UtcNow > until) throw new TimeoutException($"fires: {JsonSerializer.Serialize(fires)}");
                await Task.Delay(500);
            }
        }

        await journey.Step("a new version uploaded on the Datasets page retrains, and the better model is promoted", async () =>
        {
            await UploadVersionAsync(seed: 8, expectedVersion: 2);
            await journey.OpenAsync("/schedules");
            await page.GetByTestId($"schedule-name-{scheduleId}").ClickAsync();
            await Assertions.Expect(page.GetByTestId("schedule-history")).ToBeVisibleAsync();
            // The page follows the fire from pending to its decision without a reload.
            var fireRow = page.Locator("[data-testid^=fire-][data-outcome]").First;
            await Assertions.Expect(fireRow).ToHaveAttributeAsync("data-outcome", "promoted", new LocatorAssertionsToHaveAttributeOptions { Timeout = 180_000 });
            var fire = await WaitForFireAsync(1);
            Assert.Equal("dataset", fire.GetProperty("trigger").GetString());
            Assert.True(fire.GetProperty("candidateValue").GetDouble() > fire.GetProperty("productionValue").GetDouble() + 0.05, fire.ToString());
            var id = fire.GetProperty("id").GetInt64();
            await Assertions.Expect(page.GetByTestId($"fire-values-{id}")).ToContainTextAsync("Production v1");
            await Assertions.Expect(page.GetByTestId($"fire-reason-{id}")).ToContainTextAsync("v2 promoted to Production");
            await Assertions.Expect(page.GetByTestId($"fire-version-{id}")).ToContainTextAsync("pts v2");
            await Assertions.Expect(page.GetByTestId($"schedule-runs-{scheduleId}")).ToContainTextAsync("1");

            await journey.OpenAsync("/models?model=pts");
            await Assertions.Expect(page.GetByTestId("stage-pts-2")).ToHaveAttributeAsync("data-stage", "Production");
            await Assertions.Expect(page.GetByTestId("stage-pts-1")).ToHaveAttributeAsync("data-stage", "Archived");
        });

        await journey.Step("a candidate no better than Production by the margin is registered and not promoted", async () =>
        {
            await UploadVersionAsync(seed: 9, expectedVersion: 3);
            await journey.OpenAsync("/schedules");
            await page.GetByTestId($"schedule-name-{scheduleId}").ClickAsync();
            var rows = page.Locator("[data-testid^=fire-][data-outcome]");
            await Assertions.Expect(rows).ToHaveCountAsync(2, new LocatorAssertionsToHaveCountOptions { Timeout = 60_000 });
            await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-outcome", "kept", new LocatorAssertionsToHaveAttributeOptions { Timeout = 180_000 });
            var fire = await WaitForFireAsync(2);
            await Assertions.Expect(page.GetByTestId($"fire-reason-{fire.GetProperty("id").GetInt64()}")).ToContainTextAsync("Production v2 kept");
            await Assertions.Expect(page.GetByTestId($"schedule-last-{scheduleId}")).ToBeVisibleAsync();

            await journey.OpenAsync("/models?model=pts");
            await Assertions.Expect(page.GetByTestId("stage-pts-2")).ToHaveAttributeAsync("data-stage", "Production");
            await Assertions.Expect(page.GetByTestId("stage-pts-3")).ToHaveAttributeAsync("data-stage", "None");
        });

        await journey.Step("the history lists both decisions, newest first", async () =>
        {
            var fires = await portal.Http.GetFromJsonAsync<JsonElement[]>($"/api/v1/schedules/{scheduleId}/fires");
            Assert.Equal(["kept", "promoted"], fires!.Select(f => f.GetProperty("outcome").GetString()));
            Directory.CreateDirectory(Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots"));
            await journey.OpenAsync("/schedules");
            await page.GetByTestId($"schedule-name-{scheduleId}").ClickAsync();
            await Assertions.Expect(page.GetByTestId("schedule-history")).ToBeVisibleAsync();
            // Two decided fires: the chart of the candidate's figure against Production's is drawn.
            await Assertions.Expect(page.GetByTestId("fires-chart")).ToHaveAttributeAsync("data-chart-ready", "true", new LocatorAssertionsToHaveAttributeOptions { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("[data-testid=fires-chart] .scatterlayer .trace")).ToHaveCountAsync(2);
            await journey.ScreenshotWholePageAsync(Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots", "schedules.png"));
        });
    }
}
