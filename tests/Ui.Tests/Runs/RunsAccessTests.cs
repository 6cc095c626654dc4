using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Engine.Training;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;
using MudBlazor;

namespace ModelOps.Ui.Tests.Runs;

/// <summary>The run pages by team and role: another team's run is not found, a Viewer gets no buttons, a forged action is refused; New Run offers the team's own.</summary>
public sealed class RunsAccessTests : RunsUiTest
{
    private IRenderedComponent<RunDetail> RenderRun(int id)
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        Render<MudDialogProvider>();
        return Render<RunDetail>(p => p.Add(r => r.Id, id));
    }

    private async Task<int> OtherTeamAsync() =>
        (await InScopeAsync(sp => sp.GetRequiredService<People>().CreateTeamAsync("other", null, CancellationToken.None))).Id;

    private int ExperimentOf(int team, string name) => Db(db =>
    {
        var experiment = new Experiment { Name = name, TeamId = team, Owner = "otto", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
        db.Experiments.Add(experiment);
        db.SaveChanges();
        return experiment.Id;
    });

    [Fact]
    public async Task Another_teams_run_is_not_found()
    {
        var other = await OtherTeamAsync();
        var theirs = ExperimentOf(other, "theirs");
        var id = TrainingRun(new TrainingOptions { Epochs = 3 });
        Db(db => db.Runs.Where(r => r.Id == id).ExecuteUpdate(u => u.SetProperty(r => r.ExperimentId, theirs)));
        await SignInAsync("ann", TeamRole.Editor);

        var page = RenderRun(id);

        page.WaitForElement("[data-testid=run-not-found]");
        Assert.Empty(page.FindAll("[data-testid=run-name]"));
    }

    [Fact]
    public async Task A_viewer_sees_no_cancel_and_a_forged_cancel_is_refused()
    {
        var id = TrainingRun(new TrainingOptions { Epochs = 3 });
        await SignInAsync("vic", TeamRole.Viewer);

        var page = RenderRun(id);

        page.WaitForElement("[data-testid=run-name]");
        Assert.Empty(page.FindAll("[data-testid=cancel-run]"));
        Assert.Empty(page.FindAll("[data-testid=rerun]"));

        await page.InvokeAsync(() => page.Instance.CancelAsync());

        page.Render();

        page.WaitForAssertion(() => Assert.Contains("Editor", page.Find("[data-testid=run-action-error]").TextContent));
        Assert.False(RunRow(id).CancelRequested);
        Assert.Equal(RunStatus.Running, RunRow(id).Status);
    }

    [Fact]
    public async Task A_viewer_cannot_register_a_finished_run()
    {
        var id = TrainingRun(new TrainingOptions { Epochs = 3 }, RunStatus.Finished);
        Db(db => db.Runs.Where(r => r.Id == id).ExecuteUpdate(u => u.SetProperty(r => r.HasModel, true)));
        await SignInAsync("vic", TeamRole.Viewer);

        var page = RenderRun(id);

        page.WaitForElement("[data-testid=run-name]");
        Assert.Empty(page.FindAll("[data-testid=register-submit]"));
        await page.InvokeAsync(() => page.Instance.RegisterAsync());
        page.Render();
        page.WaitForAssertion(() => Assert.Contains("Editor", page.Find("[data-testid=run-action-error]").TextContent));
        Assert.Equal(0, Db(db => db.ModelVersions.Count()));
    }

    [Fact]
    public async Task New_run_offers_only_the_teams_datasets_and_experiments()
    {
        var other = await OtherTeamAsync();
        var theirs = ExperimentOf(other, "theirs");
        await CsvDatasetAsync("ours");
        var foreign = await CsvDatasetAsync("foreign");
        Db(db => db.Datasets.Where(d => d.Id == foreign.DatasetId).ExecuteUpdate(u => u.SetProperty(d => d.TeamId, other)));
        await SignInAsync("ann", TeamRole.Editor);
        Render<MudPopoverProvider>();
        Services.GetRequiredService<NavigationManager>().NavigateTo($"runs/new?dataset={foreign.DatasetId}&experiment={theirs}");

        var form = Render<NewRun>();

        form.WaitForAssertion(() => Assert.Equal("Default", InputOf(form, "run-experiment").GetAttribute("value")));
        var dataset = InputOf(form, "run-dataset").GetAttribute("value") ?? "";
        Assert.Contains("ours", dataset);
        Assert.DoesNotContain("foreign", dataset);
    }
}
