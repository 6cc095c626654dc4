using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Ui.Tests.Tracking;

/// <summary>Experiments and Compare by team and role: another team's experiments and runs are not shown, a Viewer cannot save views.</summary>
public sealed class TrackingAccessTests : TrackingUiTest
{
    private static readonly Dictionary<string, string> Params = new() { ["optimizer"] = "adam" };
    private static readonly Dictionary<string, double[]> Metrics = new() { ["val_accuracy"] = [0.5, 0.6] };

    private async Task<int> TheirExperimentAsync()
    {
        var other = (await InScopeAsync(sp => sp.GetRequiredService<People>().CreateTeamAsync("other", null, CancellationToken.None))).Id;
        var experiment = await CreateExperimentAsync("theirs");
        Db(db => db.Experiments.Where(e => e.Id == experiment.Id).ExecuteUpdate(u => u.SetProperty(e => e.TeamId, other)));
        return experiment.Id;
    }

    [Fact]
    public async Task Another_teams_experiment_and_its_runs_are_not_shown()
    {
        var theirs = await TheirExperimentAsync();
        var secret = await CreateRunAsync(theirs, "their run", Params, Metrics);
        await CreateRunAsync(Experiment.DefaultId, "our run", Params, Metrics);
        await SignInAsync("ann", TeamRole.Editor);
        RenderProviders();

        // A link naming their experiment falls back to one of ours.
        Nav.NavigateTo($"experiments?experiment={theirs}");
        var page = Render<Experiments>();

        page.WaitForAssertion(() => Assert.Contains(page.FindAll("[data-testid=run-name-cell]"), c => c.TextContent == "our run"));
        Assert.DoesNotContain(page.FindAll("[data-testid=run-name-cell]"), c => c.TextContent == "their run");
        Assert.Empty(page.FindAll($"[data-testid=run-link-{secret}]"));
        Assert.DoesNotContain("theirs", page.Find("[data-testid=experiment-picker]").OuterHtml);
    }

    [Fact]
    public async Task A_viewer_cannot_save_or_delete_a_view()
    {
        Db(db =>
        {
            db.SavedViews.Add(new SavedView { ExperimentId = Experiment.DefaultId, Name = "kept", CreatedBy = "admin", CreatedAt = DateTime.UtcNow });
            return db.SaveChanges();
        });
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();
        Nav.NavigateTo("experiments");

        var page = Render<Experiments>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=saved-view-kept]")));
        Assert.Empty(page.FindAll("[data-testid=delete-view-kept]"));
        Assert.Empty(page.FindAll("[data-testid=new-experiment]"));
        Assert.Empty(page.FindAll("[data-testid=new-run]"));

        typeof(Experiments).GetField("viewName", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.SetValue(page.Instance, "forged");
        await page.InvokeAsync(() => page.Instance.SaveViewAsync());
        page.Render();
        page.WaitForAssertion(() => Assert.Contains("Editor", page.Find("[data-testid=view-message]").TextContent));
        var kept = Db(db => db.SavedViews.AsNoTracking().Single());
        await page.InvokeAsync(() => page.Instance.DeleteViewAsync(kept));
        page.Render();

        Assert.Equal(["kept"], Db(db => db.SavedViews.Select(v => v.Name).ToList()));
    }

    [Fact]
    public async Task Compare_leaves_out_runs_of_teams_the_caller_is_not_in()
    {
        var theirs = await TheirExperimentAsync();
        var a = await CreateRunAsync(Experiment.DefaultId, "a", Params, Metrics);
        var b = await CreateRunAsync(Experiment.DefaultId, "b", new Dictionary<string, string> { ["optimizer"] = "sgd" }, Metrics);
        var secret = await CreateRunAsync(theirs, "secret", Params, Metrics);
        await SignInAsync("ann", TeamRole.Viewer);

        Nav.NavigateTo($"compare?runs={a},{b},{secret}");
        var page = Render<Compare>();

        page.WaitForAssertion(() => Assert.Contains($"#{secret}", page.Find("[data-testid=compare-missing]").TextContent));
        Assert.Contains("Compare 2 runs", page.Find("h1").TextContent);
        Assert.DoesNotContain("secret", page.Markup);
    }
}
