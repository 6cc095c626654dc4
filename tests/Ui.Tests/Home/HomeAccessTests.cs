using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;
using ModelOps.Ui.Tests.Registry;
using HomePage = ModelOps.Portal.Home.Home;

namespace ModelOps.Ui.Tests.Home;

/// <summary>The overview counts and lists the current team's datasets, runs, queue and models only; a Viewer gets no New run button.</summary>
public sealed class HomeAccessTests : PortalUiTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public HomeAccessTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    [Fact]
    public async Task Another_teams_datasets_runs_queue_and_models_are_not_counted_or_listed()
    {
        var other = await InScopeAsync(async sp => (await sp.GetRequiredService<People>().CreateTeamAsync("other", null, CancellationToken.None)).Id);
        Db(db =>
        {
            var experiment = new Experiment { Name = "their experiment", Owner = "otto", TeamId = other, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
            db.Experiments.Add(experiment);
            db.Datasets.Add(new Dataset { Name = "their data", TeamId = other, CreatedAt = DateTime.UtcNow, CreatedBy = "otto" });
            db.SaveChanges();
            foreach (var status in new[] { RunStatus.Queued, RunStatus.Running, RunStatus.Finished })
            {
                var run = RegistryRows.TrainingRun($"their {status} run", status);
                run.ExperimentId = experiment.Id;
                RegistryRows.AddRun(db, run);
            }
            RegistryRows.AddModel(db, "their-model", ModelStages.Production);
            db.RegisteredModels.Single(m => m.Name == "their-model").TeamId = other;
            // The version's run is theirs too.
            foreach (var run in db.Runs.Where(r => r.Name.StartsWith("their-model")).ToList()) run.ExperimentId = experiment.Id;
            db.Datasets.Add(new Dataset { Name = "our data", CreatedAt = DateTime.UtcNow, CreatedBy = "ada" });
            RegistryRows.AddRun(db, RegistryRows.TrainingRun("our queued run", RunStatus.Queued));
            return db.SaveChanges();
        });
        await SignInAsync("edna", TeamRole.Editor);

        var page = Render<HomePage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=recent-runs]")), Wait);
        Assert.Equal("1", page.Find("[data-testid=count-datasets] .mud-typography-h4").GetAttribute("data-value"));
        Assert.Equal("1", page.Find("[data-testid=count-runs] .mud-typography-h4").GetAttribute("data-value"));
        Assert.Equal("1", page.Find("[data-testid=count-queue] .mud-typography-h4").GetAttribute("data-value"));
        Assert.Equal("0", page.Find("[data-testid=count-production] .mud-typography-h4").GetAttribute("data-value"));
        Assert.NotNull(page.Find("[data-testid=production-empty]"));
        Assert.DoesNotContain("their", page.Markup);
        Assert.NotNull(page.Find("[data-testid=home-new-run]"));
    }

    [Fact]
    public async Task A_viewer_gets_no_new_run_button()
    {
        await SignInAsync("vic", TeamRole.Viewer);
        var page = Render<HomePage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=recent-runs-empty]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=home-new-run]"));
    }
}
