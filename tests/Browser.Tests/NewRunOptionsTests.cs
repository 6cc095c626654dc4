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
            // A new user's run goes to an experiment of their own, made right here.
            await Assertions.Expect(page.Locator("[data-testid=run-experiment] input").First).ToHaveValueAsync("Default");
            await page.GetByTestId("run-new-experiment").ClickAsync();
            await journey.FillAsync("run-new-experiment-name", "Default");
            await page.GetByTestId("run-create-experiment").ClickAsync();
            await Assertions.Expect(page.GetByTestId("run-new-experiment-error")).ToContainTextAsync("An experiment named 'Default' exists already.");
            await journey.FillAsync("run-new-experiment-name", "options study");
            await page.GetByTestId("run-create-experiment").ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=run-experiment] input").First).ToHaveValueAsync("options study");
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
            await Assertions.Expect(page.GetByTestId("run-opt-model")).ToContainTextAsync("hidden layers 32,16", new LocatorAssertionsToContainTextOptions { Timeout = 30_000 });
            await Assertions.Expect(page.GetByTestId("run-opt-optimizer")).ToContainTextAsync("adamw, lr 0.001, weight decay 0.01");
            await Assertions.Expect(page.GetByTestId("run-opt-schedule")).ToContainTextAsync("cosine (warm-up 1 epochs)");
            var run = await portal.GetRunAsync(runId);
            var parameters = run.GetProperty("params");
            Assert.Equal("adamw", parameters.GetProperty("optimizer").GetString());
            Assert.Equal("cosine", parameters.GetProperty("schedule").GetString());
            Assert.Equal("32-16", parameters.GetProperty("hidden_layers").GetString());
            Assert.Equal(3, run.GetProperty("epochs").GetInt32());
            // The run is in the experiment made on the form, and the page links to it by name.
            var experiments = System.Text.Json.JsonDocument.Parse(await portal.Http.GetStringAsync("/api/v1/experiments")).RootElement;
            var study = experiments.EnumerateArray().Single(e => e.GetProperty("name").GetString() == "options study").GetProperty("id").GetInt32();
            Assert.Equal(study, run.GetProperty("experimentId").GetInt32());
            await Assertions.Expect(page.GetByTestId("run-experiment")).ToHaveTextAsync("options study");
            // Only what an mlp uses is listed among the params.
            var shown = page.Locator("[data-testid=run-params] tr[data-param]");
            await Assertions.Expect(page.Locator("[data-testid=run-params] tr[data-param=hidden_layers]")).ToHaveCountAsync(1);
            foreach (var key in new[] { "conv_blocks", "vocabulary_size", "max_tokens", "momentum" })
                await Assertions.Expect(page.Locator($"[data-testid=run-params] tr[data-param={key}]")).ToHaveCountAsync(0);
            Assert.True(await shown.CountAsync() > 5);
        });
        Assert.Empty(browser.Errors);
    }

    /// <summary>A small labelled text CSV (label, text): positive and negative words.</summary>
    private static string Reviews(int rows)
    {
        var text = new System.Text.StringBuilder("label,text\n");
        string[] good = ["great", "lovely", "fine", "superb"], bad = ["awful", "broken", "poor", "dull"];
        for (var i = 0; i < rows; i++)
        {
            var positive = i % 2 == 0;
            var words = positive ? good : bad;
            text.Append(positive ? "pos" : "neg").Append(',').Append(words[i % 4]).Append(" item ").Append(words[(i + 1) % 4]).Append('\n');
        }
        return text.ToString();
    }

    [Fact]
    public async Task A_user_takes_the_k_fold_suggestion_on_a_small_table_and_picks_text_transformer_options_and_sees_both_on_the_run_pages()
    {
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        var small = (await portal.UploadCsvAsync("small", TestData.SeparableCsv(150))).GetProperty("datasetId").GetInt32();
        using var form = new MultipartFormDataContent
        {
            { new StringContent("reviews"), "name" },
            { new StringContent("text"), "kind" },
            { new StringContent("label"), "labelColumn" },
            { new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(Reviews(80))), "file", "reviews.csv" },
        };
        using var uploaded = await portal.Http.PostAsync("/api/v1/datasets/csv", form);
        Assert.True(uploaded.IsSuccessStatusCode, await uploaded.Content.ReadAsStringAsync());
        var reviews = System.Text.Json.JsonDocument.Parse(await uploaded.Content.ReadAsStringAsync()).RootElement.GetProperty("datasetId").GetInt32();

        await using var browser = await BrowserSession.StartAsync(portal.BaseUrl);
        var page = browser.Page;
        var journey = new Journey(page, portal, output, browser.Errors);

        var cvRun = await journey.Step("a 150-row table suggests k-fold; taking it starts a 5-fold run", async () =>
        {
            await journey.OpenAsync($"/runs/new?dataset={small}");
            await Assertions.Expect(page.GetByTestId("run-kfold-suggestion")).ToContainTextAsync("150 rows");
            await page.GetByTestId("run-use-kfold").ClickAsync();
            await Assertions.Expect(page.GetByTestId("run-kfold-suggestion")).ToHaveCountAsync(0);
            await Assertions.Expect(page.Locator("[data-testid=run-cv-folds] input, input[data-testid=run-cv-folds]").First).ToHaveValueAsync("5");
            await journey.FillAsync("run-epochs", "2");
            await page.GetByTestId("run-submit").ClickAsync();
            await page.WaitForURLAsync(RunPage(), new PageWaitForURLOptions { Timeout = 60_000 });
            return int.Parse(RunPage().Match(page.Url).Groups[1].Value);
        });

        await journey.Step("the run page shows the folds as they finish, then mean ± std and the refit", async () =>
        {
            // The machine may be busy: the run page's first render can take a while after the navigation.
            await Assertions.Expect(page.GetByTestId("run-opt-cv")).ToContainTextAsync("5 folds", new LocatorAssertionsToContainTextOptions { Timeout = 30_000 });
            await Assertions.Expect(page.GetByTestId("cv-panel")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("cv-refit-note")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 120_000 });
            await Assertions.Expect(page.GetByTestId("cv-fold-5")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("cv-mean-accuracy")).ToContainTextAsync("±");
            Assert.Equal("5", (await portal.GetRunAsync(cvRun)).GetProperty("params").GetProperty("cross_validation_folds").GetString());
        });

        await journey.Step("text-transformer: a width that is not a multiple of the heads is explained under the field", async () =>
        {
            await journey.OpenAsync($"/runs/new?dataset={reviews}");
            await page.GetByTestId("run-template").GetByText("text-transformer", new() { Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("run-attention-heads")).ToBeVisibleAsync();
            await journey.FillAsync("run-embedding-dim", "30");
            await Assertions.Expect(page.GetByTestId("run-embedding-dim-error")).ToContainTextAsync("EmbeddingDim must be a multiple of AttentionHeads");
            await journey.FillAsync("run-embedding-dim", "32");
            await Assertions.Expect(page.GetByTestId("run-embedding-dim-error")).ToHaveCountAsync(0);
        });

        var textRun = await journey.Step("choose the transformer's layers and heads and start the run", async () =>
        {
            await journey.FillAsync("run-transformer-layers", "3");
            await journey.FillAsync("run-attention-heads", "8");
            await journey.FillAsync("run-hidden-size", "48");
            await journey.FillAsync("run-max-tokens", "16");
            await journey.FillAsync("run-vocabulary-size", "200");
            await journey.FillAsync("run-epochs", "1");
            await page.GetByTestId("run-submit").ClickAsync();
            await page.WaitForURLAsync(RunPage(), new PageWaitForURLOptions { Timeout = 60_000 });
            return int.Parse(RunPage().Match(page.Url).Groups[1].Value);
        });

        await journey.Step("the run page summarises the transformer and its params hold only what applies", async () =>
        {
            await Assertions.Expect(page.GetByTestId("run-opt-model")).ToContainTextAsync("3 encoder layers, 8 attention heads, model width 32, feed-forward 48");
            await Assertions.Expect(page.GetByTestId("run-opt-data")).ToHaveCountAsync(0);
            var parameters = (await portal.GetRunAsync(textRun)).GetProperty("params");
            Assert.Equal(("3", "8"), (parameters.GetProperty("transformer_layers").GetString(), parameters.GetProperty("attention_heads").GetString()));
            Assert.False(parameters.TryGetProperty("hidden_layers", out _));
            await Assertions.Expect(page.Locator("[data-testid=run-params] tr[data-param=attention_heads]")).ToHaveCountAsync(1);
            await Assertions.Expect(page.Locator("[data-testid=run-params] tr[data-param=hidden_layers]")).ToHaveCountAsync(0);
        });
        Assert.Empty(browser.Errors);
    }
}
