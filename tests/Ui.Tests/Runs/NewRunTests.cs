using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;
using MudBlazor;

namespace ModelOps.Ui.Tests.Runs;

/// <summary>The New Run form: the experiment a run lands in, inline experiment creation, inputs that wait for the circuit.</summary>
public sealed class NewRunTests : RunsUiTest
{
    private bool popovers;

    private IRenderedComponent<NewRun> RenderForm(string query = "")
    {
        if (!popovers) Render<MudPopoverProvider>();
        popovers = true;
        Services.GetRequiredService<NavigationManager>().NavigateTo("runs/new" + query);
        return Render<NewRun>();
    }

    [Fact]
    public async Task The_experiment_picker_defaults_to_Default_and_offers_the_existing_experiments()
    {
        await CsvDatasetAsync();
        var other = await RunExperiments.CreateAsync(Services.GetRequiredService<IServiceScopeFactory>(), "tuning", CancellationToken.None);
        var form = RenderForm();
        form.WaitForAssertion(() => Assert.Equal("Default", InputOf(form, "run-experiment").GetAttribute("value")));

        var asked = RenderForm($"?experiment={other.Id}");
        asked.WaitForAssertion(() => Assert.Equal("tuning", InputOf(asked, "run-experiment").GetAttribute("value")));
    }

    [Fact]
    public async Task A_new_experiment_made_inline_receives_the_run()
    {
        var version = await CsvDatasetAsync();
        var form = RenderForm($"?dataset={version.DatasetId}");
        form.WaitForElement("[data-testid=run-new-experiment]").Click();
        InputOf(form, "run-new-experiment-name").Change("my first experiment");
        form.Find("[data-testid=run-create-experiment]").Click();
        form.WaitForAssertion(() => Assert.Equal("my first experiment", InputOf(form, "run-experiment").GetAttribute("value")));

        InputOf(form, "run-epochs").Change("2");
        InputOf(form, "run-name").Change("in its own experiment");
        // The run is queued on the persistent scheduler (created, not dispatching: PauseDispatch).
        var scheduler = Services.GetRequiredService<ModelOps.Jobs.Scheduling.JobsHost>();
        await scheduler.StartAsync(CancellationToken.None);
        try
        {
            await form.Find("[data-testid=run-submit]").ClickAsync(new());
        }
        finally
        {
            await scheduler.StopAsync(CancellationToken.None);
        }

        Run? run = null;
        form.WaitForAssertion(() => Assert.NotNull(run = Db(db => db.Runs.AsNoTracking().FirstOrDefault(r => r.Name == "in its own experiment"))), TimeSpan.FromSeconds(10));
        var experiment = Db(db => db.Experiments.AsNoTracking().Single(e => e.Name == "my first experiment"));
        Assert.Equal(experiment.Id, run!.ExperimentId);
        Assert.NotEqual(Experiment.DefaultId, run.ExperimentId);
        Assert.EndsWith($"/runs/{run.Id}", Services.GetRequiredService<NavigationManager>().Uri);
    }

    [Fact]
    public async Task A_new_experiment_name_is_checked_by_the_experiments_api_rules_under_the_field()
    {
        await CsvDatasetAsync();
        var form = RenderForm();
        form.WaitForElement("[data-testid=run-new-experiment]").Click();
        form.Find("[data-testid=run-create-experiment]").Click();
        form.WaitForAssertion(() => Assert.Equal("An experiment name is required.", form.Find("[data-testid=run-new-experiment-error]").TextContent.Trim()));

        InputOf(form, "run-new-experiment-name").Change("Default");
        form.Find("[data-testid=run-create-experiment]").Click();
        form.WaitForAssertion(() => Assert.Equal("An experiment named 'Default' exists already.", form.Find("[data-testid=run-new-experiment-error]").TextContent.Trim()));

        InputOf(form, "run-new-experiment-name").Change(new string('x', 129));
        form.Find("[data-testid=run-create-experiment]").Click();
        form.WaitForAssertion(() => Assert.Contains("at most 128 printable characters", form.Find("[data-testid=run-new-experiment-error]").TextContent));
        Assert.Equal(1, Db(db => db.Experiments.Count()));
    }

    [Fact]
    public async Task Inputs_and_the_submit_button_wait_for_the_circuit()
    {
        await CsvDatasetAsync();
        SetRendererInfo(new RendererInfo("Static", isInteractive: false));
        var form = RenderForm();
        form.WaitForElement("[data-testid=run-submit]");
        Assert.True(form.Find("[data-testid=run-submit]").HasAttribute("disabled"));
        Assert.True(InputOf(form, "run-name").HasAttribute("disabled"));
        Assert.True(InputOf(form, "run-epochs").HasAttribute("disabled"));
        Assert.True(form.Find("[data-testid=run-new-experiment]").HasAttribute("disabled"));

        Live();
        var live = RenderForm();
        live.WaitForElement("[data-testid=run-submit]");
        Assert.False(live.Find("[data-testid=run-submit]").HasAttribute("disabled"));
        Assert.False(InputOf(live, "run-name").HasAttribute("disabled"));
    }

    [Fact]
    public async Task A_problem_with_the_options_is_explained_and_creates_nothing()
    {
        await CsvDatasetAsync();
        var form = RenderForm();
        InputOf(form, "run-hidden-layers").Change("32,x");
        form.Find("[data-testid=run-submit]").Click();
        form.WaitForAssertion(() => Assert.Contains("('x' is not one)", form.Find("[data-testid=run-error]").TextContent));
        Assert.Equal(0, Db(db => db.Runs.Count()));
    }

    [Fact]
    public async Task The_form_speaks_chinese_in_zh_CN()
    {
        await CsvDatasetAsync();
        UseCulture(PortalCultures.Chinese);
        var form = RenderForm();
        form.WaitForAssertion(() => Assert.Contains("新建训练运行", form.Markup));
        Assert.Contains("开始运行", form.Find("[data-testid=run-submit]").TextContent);
        Assert.Contains("新建实验", form.Find("[data-testid=run-new-experiment]").TextContent);
        Assert.Contains("（csv，300 行）", form.Find("[data-testid=run-dataset]").InnerHtml);
        Assert.DoesNotContain("Start run", form.Markup);
    }
}
