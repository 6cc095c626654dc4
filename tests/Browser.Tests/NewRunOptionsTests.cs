using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>
/// The New Run form's options in a real Chromium: a choice the form cannot accept is explained in place
/// and creates nothing; a valid one (mlp with its layers, AdamW, a cosine schedule with warm-up) reaches
/// the run, its params and its page.
/// </summary>
public sealed partial class NewRunOptionsTests(ITestOutputHelper output)
{
    [GeneratedRegex(@"/runs/(\d+)$")]
    private static partial Regex RunPage();

    [Fact]
    public async Task A_user_picks_layers_adamw_and_a_cosine_schedule_and_sees_them_on_the_run_page()
    {
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        var dataset = (await portal.UploadCsvAsync("points", TestData.SeparableCsv(300))).GetProperty("datasetId").GetInt32();

        await using var browser = await BrowserSession.StartAsync(portal.BaseUrl);
        var page = browser.Page;
        var journey = new Journey(page, portal, output, browser.Errors);

        await journey.Step("choose the options on the New Run form", async () =>
        {
            await journey.OpenAsync($"/runs/new?dataset={dataset}");
            // A csv dataset offers the mlp template only, and both tasks for it.
            var templates = page.GetByTestId("run-template");
            await Assertions.Expect(templates).ToContainTextAsync("mlp");
            await Assertions.Expect(templates).Not.ToContainTextAsync("cnn");
            await Assertions.Expect(page.GetByTestId("run-task")).ToContainTextAsync("regression");

            await journey.FillAsync("run-hidden-layers", "32,16");
            await journey.FillAsync("run-epochs", "3");
            await page.GetByTestId("run-optimizer").GetByText("adamw", new() { Exact = true }).ClickAsync();
            await journey.FillAsync("run-weight-decay", "0.01");
            // Momentum belongs to sgd: not offered for AdamW.
            await Assertions.Expect(page.GetByTestId("run-momentum")).ToHaveCountAsync(0);
            await page.GetByTestId("run-schedule").GetByText("cosine", new() { Exact = true }).ClickAsync();
            await journey.FillAsync("run-warmup-epochs", "5");
            await journey.FillAsync("run-name", "options journey");
            // The README shows the form as a user fills it.
            var shots = Directory.CreateDirectory(Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots")).FullName;
            await journey.ScreenshotWholePageAsync(Path.Combine(shots, "new-run-page.png"));
        });

        await journey.Step("a warm-up longer than the run is explained and creates nothing", async () =>
        {
            await page.GetByTestId("run-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("run-error")).ToContainTextAsync("WarmupEpochs must be from 0 to Epochs");
            var runs = await portal.Http.GetStringAsync("/api/v1/runs");
            Assert.Contains("\"total\":0", runs);
        });

        var runId = await journey.Step("submit valid options and land on the run page", async () =>
        {
            await journey.FillAsync("run-warmup-epochs", "1");
            await page.GetByTestId("run-submit").ClickAsync();
            await page.WaitForURLAsync(RunPage(), new PageWaitForURLOptions { Timeout = 60_000 });
            return int.Parse(RunPage().Match(page.Url).Groups[1].Value);
        });

        await journey.Step("the run page and the run's params show the options", async () =>
        {
            await Assertions.Expect(page.GetByTestId("run-opt-model")).ToContainTextAsync("hidden layers 32,16");
            await Assertions.Expect(page.GetByTestId("run-opt-optimizer")).ToContainTextAsync("adamw, lr 0.001, weight decay 0.01");
            await Assertions.Expect(page.GetByTestId("run-opt-schedule")).ToContainTextAsync("cosine (warm-up 1 epochs)");
            var run = await portal.GetRunAsync(runId);
            var parameters = run.GetProperty("params");
            Assert.Equal("adamw", parameters.GetProperty("optimizer").GetString());
            Assert.Equal("cosine", parameters.GetProperty("schedule").GetString());
            Assert.Equal("32-16", parameters.GetProperty("hidden_layers").GetString());
            Assert.Equal(3, run.GetProperty("epochs").GetInt32());
        });
        Assert.Empty(browser.Errors);
    }
}
