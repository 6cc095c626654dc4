using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Review;
using ModelOps.Ui.Tests.Registry;
using MudBlazor;

namespace ModelOps.Ui.Tests.Review;

/// <summary>The review page: Production beside its challengers with the difference coloured, sign-off for Approvers only, nothing of another team.</summary>
public sealed class ReviewPageTests : PortalUiTest
{
    public ReviewPageTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    private void RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
    }

    /// <summary>"churn": v1 Production at 0.93, v2 a challenger at 0.95, v3 archived.</summary>
    private void AddChurn() => Db(db =>
    {
        RegistryRows.AddModel(db, "churn", ModelStages.Production, ModelStages.None, ModelStages.Archived);
        var v2Run = db.ModelVersions.Where(v => v.RegisteredModel!.Name == "churn" && v.Version == 2).Select(v => v.RunId).Single();
        return db.Runs.Where(r => r.Id == v2Run).ExecuteUpdate(u => u.SetProperty(r => r.TestAccuracy, 0.95));
    });

    [Fact]
    public async Task Approver_sees_the_difference_to_production_and_signs_off()
    {
        AddChurn();
        await SignInAsync("april", TeamRole.Approver);
        RenderProviders();

        var page = Render<ReviewPage>(p => p.Add(x => x.Name, "churn"));

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=review-metrics]")));
        Assert.NotNull(page.Find("[data-testid=review-version-1]"));
        Assert.NotNull(page.Find("[data-testid=review-version-2]"));
        Assert.Empty(page.FindAll("[data-testid=review-version-3]")); // archived versions are not challengers by default
        var cell = page.Find("[data-testid=review-accuracy-2]");
        Assert.Contains("0.9500 (+0.0200)", cell.TextContent);
        Assert.Contains("mud-success-text", cell.ClassName);
        Assert.NotNull(page.Find("[data-testid=review-add-3]"));

        page.Find("[data-testid=review-decide] textarea").Change("looks good");
        page.Find("[data-testid=review-sign-off]").Click();

        page.WaitForAssertion(() => Assert.Contains("april", page.Find("[data-testid=review-decisions]").TextContent));
        var stored = Db(db => db.Set<ModelReview>().AsNoTracking().Single());
        Assert.Equal(("signed-off", "looks good", "april"), (stored.Decision, stored.Note, stored.Actor));
    }

    [Fact]
    public async Task Viewer_reads_the_review_without_the_decide_buttons()
    {
        AddChurn();
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();

        var page = Render<ReviewPage>(p => p.Add(x => x.Name, "churn"));

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=review-metrics]")));
        Assert.Empty(page.FindAll("[data-testid=review-decide]"));
    }

    [Fact]
    public async Task Another_teams_model_is_not_found()
    {
        AddChurn();
        var other = (await InScopeAsync(sp => sp.GetRequiredService<People>().CreateTeamAsync("other", null, CancellationToken.None))).Id;
        Db(db => db.RegisteredModels.Where(m => m.Name == "churn").ExecuteUpdate(u => u.SetProperty(m => m.TeamId, other)));
        await SignInAsync("ann", TeamRole.Approver);
        RenderProviders();

        var page = Render<ReviewPage>(p => p.Add(x => x.Name, "churn"));

        page.WaitForAssertion(() => Assert.Contains("churn", page.Find("[data-testid=review-error]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=review-metrics]"));
    }
}
