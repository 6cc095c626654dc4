using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>
/// The jobs queue, the model registry and the overview in a real Chromium against the real portal: the queue
/// holds only what the portal schedules (a run a client reports is not a job), Cancel and Production changes
/// are confirmed in a dialog, and the pages speak Chinese.
/// </summary>
public sealed class RegistryAndJobsPagesTests(ITestOutputHelper output)
{
    private const string ModelName = "points-model";
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task The_queue_shows_scheduled_runs_only_cancels_after_asking_and_the_registry_confirms_production_changes()
    {
        var clock = Stopwatch.StartNew();
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false", "--ModelOps:WorkerSlots=1");

        // A finished run registered as v1; then a long run holding the only worker slot and one queued behind it.
        var finished = await portal.StartMlpRunAsync(epochs: 2, rows: 300);
        await portal.WaitForRunAsync(finished, r => r.GetProperty("status").GetString() is "Finished" or "Failed", RunTimeout);
        Assert.Equal("Finished", (await portal.GetRunAsync(finished)).GetProperty("status").GetString());
        (await portal.Http.PostAsJsonAsync($"/api/v1/models/{ModelName}/versions", new { runId = finished })).EnsureSuccessStatusCode();
        var running = await portal.StartMlpRunAsync(epochs: 500, rows: 1500, dataset: "points-long");
        await portal.WaitForRunAsync(running, r => r.GetProperty("status").GetString() == "Running", RunTimeout);
        var queued = await portal.StartMlpRunAsync(epochs: 2, rows: 300, dataset: "points-queued");
        // What the Python client does: a run it reports itself, Running until it says otherwise.
        using var reportedResponse = await portal.Http.PostAsJsonAsync("/api/v1/experiments/1/runs", new { name = "notebook run" });
        reportedResponse.EnsureSuccessStatusCode();
        var reported = JsonDocument.Parse(await reportedResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt32();
        output.WriteLine($"Seeded by {clock.Elapsed.TotalSeconds:0.0}s: finished {finished}, running {running}, queued {queued}, reported {reported}");

        await using var browser = await BrowserSession.StartAsync(portal.BaseUrl);
        var page = browser.Page;
        var journey = new Journey(page, portal, output, browser.Errors);
        var dialog = page.Locator(".mud-dialog");

        await journey.Step("the queue lists the scheduled runs and not the client's", async () =>
        {
            await journey.OpenAsync("/jobs");
            await Assertions.Expect(page.GetByTestId($"job-{running}")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId($"job-{queued}")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId($"job-{running}")).ToHaveAttributeAsync("data-status", "Running");
            await Assertions.Expect(page.GetByTestId($"job-{queued}")).ToHaveAttributeAsync("data-status", "Queued");
            await Assertions.Expect(page.GetByTestId($"job-{reported}")).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("jobs-table")).Not.ToContainTextAsync("notebook run");
            var summary = page.GetByTestId("jobs-summary");
            await Assertions.Expect(summary).ToHaveAttributeAsync("data-running", "1");
            await Assertions.Expect(summary).ToHaveAttributeAsync("data-queued", "1");
            await Assertions.Expect(summary).ToContainTextAsync("1 running on 1 worker slot(s) · 1 queued");
        });

        await journey.Step("the running job's progress grows without a reload", async () =>
        {
            var progress = page.GetByTestId($"progress-{running}");
            var first = double.Parse(await progress.GetAttributeAsync("data-value") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            await page.WaitForFunctionAsync(
                $"v => Number(document.querySelector('[data-testid=progress-{running}]')?.dataset.value ?? 0) > v", first,
                new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 250 });
        });

        await journey.Step("cancel asks first, then takes the queued run out of the queue", async () =>
        {
            await journey.ClickUntilAsync($"cancel-{queued}", dialog);
            await Assertions.Expect(dialog).ToContainTextAsync($"Cancel run #{queued}?");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Keep it", Exact = true }).ClickAsync();
            await Assertions.Expect(dialog).ToHaveCountAsync(0);
            Assert.Equal("Queued", (await portal.GetRunAsync(queued)).GetProperty("status").GetString());

            await journey.ClickUntilAsync($"cancel-{queued}", dialog);
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel the run", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByTestId($"job-{queued}")).ToHaveCountAsync(0);
            await Assertions.Expect(page.Locator(".mud-snackbar")).ToContainTextAsync($"Run #{queued} was cancelled.");
            Assert.Equal("Cancelled", (await portal.GetRunAsync(queued)).GetProperty("status").GetString());
        });

        await journey.Step("cancelling the running job stops its worker and empties the queue", async () =>
        {
            // The first click counts: the row refreshes every 2 s but keeps its elements.
            await page.GetByTestId($"cancel-{running}").ClickAsync();
            await Assertions.Expect(dialog).ToBeVisibleAsync(new() { Timeout = 5_000 });
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel the run", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("jobs-empty")).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await Assertions.Expect(page.GetByTestId("jobs-summary")).ToHaveAttributeAsync("data-running", "0");
            await portal.WaitForRunAsync(running, r => r.GetProperty("status").GetString() == "Cancelled", TimeSpan.FromSeconds(60));
            // The client's run is untouched: it is the client's to end.
            Assert.Equal("Running", (await portal.GetRunAsync(reported)).GetProperty("status").GetString());
        });

        await journey.Step("promoting to Production is confirmed in a dialog", async () =>
        {
            await journey.OpenAsync("/models");
            var stage = page.GetByTestId($"stage-{ModelName}-1");
            await Assertions.Expect(stage).ToHaveTextAsync("None");
            await journey.ClickUntilAsync($"promote-{ModelName}-1", dialog);
            await Assertions.Expect(dialog).ToContainTextAsync($"Promote {ModelName} v1 to Production?");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Promote to Production", Exact = true }).ClickAsync();
            await Assertions.Expect(stage).ToHaveTextAsync("Production");
            await Assertions.Expect(page.GetByTestId($"promote-{ModelName}-1")).ToBeDisabledAsync();
            await Assertions.Expect(page.GetByTestId("audit-trail")).ToContainTextAsync("None → Production");
        });

        await journey.Step("registering the same run again says which version it already is", async () =>
        {
            await page.GetByTestId("register-open").ClickAsync();
            await page.GetByTestId("register-run").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = $"Run #{finished}: ", Exact = false }).First.ClickAsync();
            await page.GetByTestId("register-model-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("register-already")).ToContainTextAsync($"Run {finished} is already version 1 of model '{ModelName}'.");
            var versions = JsonDocument.Parse(await portal.Http.GetStringAsync($"/api/v1/models/{ModelName}")).RootElement.GetProperty("versions");
            Assert.Equal(1, versions.GetArrayLength());
        });

        await journey.Step("the overview counts the scheduled queue", async () =>
        {
            await journey.OpenAsync("/");
            await Assertions.Expect(page.Locator("[data-testid=count-queue] [data-value]")).ToHaveAttributeAsync("data-value", "0");
            await Assertions.Expect(page.Locator("[data-testid=count-production] [data-value]")).ToHaveAttributeAsync("data-value", "1");
            await Assertions.Expect(page.GetByTestId($"production-{ModelName}")).ToBeVisibleAsync();
        });

        await journey.Step("the queue, the registry and the overview in Chinese", async () =>
        {
            await journey.OpenAsync("/ui/culture?culture=zh-CN&redirect=/jobs");
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("作业队列");
            await Assertions.Expect(page.GetByTestId("jobs-empty")).ToHaveTextAsync("没有排队或运行中的作业。");
            await journey.OpenAsync("/models");
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("模型注册表");
            await Assertions.Expect(page.GetByTestId($"stage-{ModelName}-1")).ToHaveTextAsync("生产");
            await journey.OpenAsync("/");
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("概览");
        });

        lock (browser.Errors)
            Assert.True(browser.Errors.Count == 0, "Browser errors:\n" + string.Join("\n", browser.Errors));
        output.WriteLine($"Done in {clock.Elapsed.TotalSeconds:0.0}s");
    }
}
