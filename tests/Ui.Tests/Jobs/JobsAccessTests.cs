using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Jobs;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;
using ModelOps.Ui.Tests.Registry;
using MudBlazor;
using JobsPage = ModelOps.Portal.Jobs.Jobs;

namespace ModelOps.Ui.Tests.Jobs;

/// <summary>Teams and roles on the jobs queue: the current team's runs only (a run is its experiment's team's), Cancel for Editors only, and checked at the action.</summary>
public sealed class JobsAccessTests : PortalUiTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public JobsAccessTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    /// <summary>Another team with an experiment of its own; returns the team and the experiment.</summary>
    private async Task<(int Team, int Experiment)> OtherTeamAsync()
    {
        var team = await InScopeAsync(async sp => (await sp.GetRequiredService<People>().CreateTeamAsync("other", null, CancellationToken.None)).Id);
        var experiment = Db(db =>
        {
            var e = new Experiment { Name = "their experiment", Owner = "otto", TeamId = team, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
            db.Experiments.Add(e);
            db.SaveChanges();
            return e.Id;
        });
        return (team, experiment);
    }

    private static JobsPage.JobRow Row(int id, string name) =>
        new(id, name, RunStatus.Queued, 0, 0, 10, 0, DateTime.UtcNow, null, null, false, null, "cpu", 1, null, Team.DefaultId);

    [Fact]
    public async Task Another_teams_runs_are_neither_listed_nor_counted_but_stand_ahead_in_the_queue()
    {
        var (_, theirExperiment) = await OtherTeamAsync();
        var theirs = Db(db =>
        {
            var run = RegistryRows.TrainingRun("their run", RunStatus.Queued);
            run.ExperimentId = theirExperiment;
            run.CreatedAt = DateTime.UtcNow.AddMinutes(-10);
            return RegistryRows.AddRun(db, run);
        });
        var ours = Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("our run", RunStatus.Queued)));
        await SignInAsync("edna", TeamRole.Editor);

        var page = Render<JobsPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=job-{ours}]")), Wait);
        Assert.Empty(page.FindAll($"[data-testid=job-{theirs}]"));
        Assert.DoesNotContain("their run", page.Markup);
        Assert.Equal("1", page.Find("[data-testid=jobs-summary]").GetAttribute("data-queued"));
        // Its place is in the whole queue: the other team's run starts first.
        Assert.Equal("2", page.Find($"[data-testid=slot-{ours}]").GetAttribute("data-position"));

        var queue = await InScopeAsync(sp => sp.GetRequiredService<JobQueueQuery>().ListAsync([Team.DefaultId]));
        Assert.Equal([ours], queue.Jobs.Select(j => j.Id));
        Assert.Equal(2, queue.Jobs[0].Position);
    }

    [Fact]
    public async Task A_viewer_sees_no_cancel_button_and_an_editor_does()
    {
        var queued = Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued mlp", RunStatus.Queued)));
        await SignInAsync("vic", TeamRole.Viewer);
        var page = Render<JobsPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=job-{queued}]")), Wait);
        Assert.Empty(page.FindAll("[data-testid^=cancel-]"));

        await SignInAsync("edna", TeamRole.Editor);
        var asEditor = Render<JobsPage>();
        asEditor.WaitForAssertion(() => Assert.NotNull(asEditor.Find($"[data-testid=cancel-{queued}]")), Wait);
    }

    [Fact]
    public async Task A_viewers_forged_cancel_is_refused_and_the_run_stays_queued()
    {
        var queued = Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued mlp", RunStatus.Queued)));
        await SignInAsync("vic", TeamRole.Viewer);
        Render<MudPopoverProvider>();
        var dialogs = Render<MudDialogProvider>();
        var page = Render<JobsPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=job-{queued}]")), Wait);

        await page.InvokeAsync(() => page.Instance.CancelAsync(Row(queued, "queued mlp")));

        page.WaitForAssertion(() => Assert.Contains("needs the Editor role", page.Find("[data-testid=jobs-error]").TextContent), Wait);
        Assert.DoesNotContain("Cancel run #", dialogs.Markup);
        var run = Db(db => db.Runs.Single(r => r.Id == queued));
        Assert.Equal(RunStatus.Queued, run.Status);
        Assert.False(run.CancelRequested);
        Assert.DoesNotContain(Db(db => db.AuditEvents.Select(a => a.Action).ToList()), a => a == "run.cancel");
    }

    [Fact]
    public async Task A_forged_cancel_of_another_teams_run_is_not_found()
    {
        var (_, theirExperiment) = await OtherTeamAsync();
        var theirs = Db(db =>
        {
            var run = RegistryRows.TrainingRun("their run", RunStatus.Queued);
            run.ExperimentId = theirExperiment;
            return RegistryRows.AddRun(db, run);
        });
        await SignInAsync("edna", TeamRole.Editor);
        var page = Render<JobsPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=jobs-empty]")), Wait);

        await page.InvokeAsync(() => page.Instance.CancelAsync(Row(theirs, "their run")));

        page.WaitForAssertion(() => Assert.Contains($"Run {theirs} was not found.", page.Find("[data-testid=jobs-error]").TextContent), Wait);
        Assert.Equal(RunStatus.Queued, Db(db => db.Runs.Single(r => r.Id == theirs).Status));
    }
}
