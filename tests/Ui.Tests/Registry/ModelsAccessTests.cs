using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Tracking;
using MudBlazor;

namespace ModelOps.Ui.Tests.Registry;

/// <summary>The registry page by team and role: another team's models are not listed, a Viewer gets no buttons, and a forged action is refused.</summary>
public sealed class ModelsAccessTests : PortalUiTest
{
    public ModelsAccessTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    private void RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        Render<MudDialogProvider>();
    }

    private async Task<int> OtherTeamAsync() =>
        (await InScopeAsync(sp => sp.GetRequiredService<People>().CreateTeamAsync("other", null, CancellationToken.None))).Id;

    private string StageOf(string model, int version) =>
        Db(db => db.ModelVersions.AsNoTracking().Single(v => v.RegisteredModel!.Name == model && v.Version == version).Stage);

    [Fact]
    public async Task Another_teams_model_is_not_listed()
    {
        var other = await OtherTeamAsync();
        Db(db => { RegistryRows.AddModel(db, "ours", ModelStages.None); RegistryRows.AddModel(db, "theirs", ModelStages.Production); return 0; });
        Db(db => db.RegisteredModels.Where(m => m.Name == "theirs").ExecuteUpdate(u => u.SetProperty(m => m.TeamId, other)));
        await SignInAsync("ann", TeamRole.Editor);
        RenderProviders();

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=model-ours]")));
        Assert.Empty(page.FindAll("[data-testid=model-theirs]"));
        // Nor can a link choose it.
        Services.GetRequiredService<NavigationManager>().NavigateTo("models?model=theirs");
        var linked = Render<Models>();
        linked.WaitForAssertion(() => Assert.NotNull(linked.Find("[data-testid=model-detail-ours]")));
        Assert.Empty(linked.FindAll("[data-testid=model-detail-theirs]"));
    }

    [Fact]
    public async Task A_viewer_sees_no_write_buttons_and_a_forged_promotion_is_refused()
    {
        Db(db => { RegistryRows.AddModel(db, "alpha", ModelStages.Staging, ModelStages.None); return 0; });
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-alpha-2]")));
        Assert.Empty(page.FindAll("[data-testid=register-open]"));
        Assert.Empty(page.FindAll("[data-testid^=promote-alpha]"));
        Assert.Empty(page.FindAll("[data-testid^=staging-alpha]"));
        Assert.Empty(page.FindAll("[data-testid^=archive-alpha]"));

        await page.InvokeAsync(() => page.Instance.PromoteAsync("alpha", 2, ModelStages.Staging, "done"));

        page.Render();

        page.WaitForAssertion(() => Assert.Contains("Editor", page.Find("[data-testid=models-error]").TextContent));
        Assert.Equal(ModelStages.None, StageOf("alpha", 2));
    }

    [Fact]
    public async Task An_editor_stages_but_cannot_promote_to_production()
    {
        Db(db => { RegistryRows.AddModel(db, "alpha", ModelStages.Production, ModelStages.None); return 0; });
        await SignInAsync("ed", TeamRole.Editor);
        RenderProviders();

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=staging-alpha-2]")));
        Assert.Empty(page.FindAll("[data-testid^=promote-alpha]"));
        // Taking v1 out of Production is an Approver's move too.
        Assert.True(page.Find("[data-testid=archive-alpha-1]").HasAttribute("disabled"));
        Assert.NotNull(page.Find("[data-testid=register-open]"));

        await page.InvokeAsync(() => page.Instance.PromoteAsync("alpha", 2, ModelStages.Production, "done"));

        page.Render();
        page.WaitForAssertion(() => Assert.Contains("Approver", page.Find("[data-testid=models-error]").TextContent));
        Assert.Equal(ModelStages.None, StageOf("alpha", 2));
        Assert.Equal(ModelStages.Production, StageOf("alpha", 1));

        await page.InvokeAsync(() => page.Instance.PromoteAsync("alpha", 2, ModelStages.Staging, "done"));

        page.Render();
        Assert.Equal(ModelStages.Staging, StageOf("alpha", 2));
    }

    [Fact]
    public async Task A_viewers_forged_registration_is_refused()
    {
        var runId = Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("finished", Portal.Runs.RunStatus.Finished)));
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=models-empty]")));

        // The run's select is not there for a Viewer; set the field as a forged event would, then register.
        var field = typeof(Models).GetField("registerRunId", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        field.SetValue(page.Instance, (int?)runId);
        typeof(Models).GetField("registerName", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.SetValue(page.Instance, "forged");
        await page.InvokeAsync(() => page.Instance.RegisterAsync(again: false));
        page.Render();

        page.WaitForAssertion(() => Assert.Contains("Editor", page.Find("[data-testid=models-error]").TextContent));
        Assert.Equal(0, Db(db => db.ModelVersions.Count()));
        Assert.Equal(0, Db(db => db.RegisteredModels.Count()));
    }
}
