using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using MudBlazor;

namespace ModelOps.Ui.Tests.Registry;

/// <summary>The model registry: models and versions from SQL, stage changes, Production behind a confirmation, rollback, registering, the audit trail.</summary>
public sealed class ModelsPageTests : PortalUiTest
{
    public ModelsPageTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    private IRenderedComponent<MudDialogProvider> RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<MudDialogProvider>();
    }

    private static void Confirm(IRenderedComponent<MudDialogProvider> dialogs, string button)
    {
        dialogs.WaitForAssertion(() => Assert.Contains(dialogs.FindAll("button"), b => b.TextContent.Trim() == button));
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == button).Click();
    }

    private string StageOf(string model, int version) =>
        Db(db => db.ModelVersions.AsNoTracking().Single(v => v.RegisteredModel!.Name == model && v.Version == version).Stage);

    [Fact]
    public void Lists_the_models_and_the_first_ones_versions_with_their_stages()
    {
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.Archived, ModelStages.Production, ModelStages.None); return 0; });
        Db(db => { RegistryRows.AddModel(db, "zeta-model", ModelStages.Staging); return 0; });

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=model-zeta-model]")));
        Assert.NotNull(page.Find("[data-testid=model-points-model]"));
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-points-model-3]")));
        Assert.Equal(ModelStages.Archived, page.Find("[data-testid=stage-points-model-1]").GetAttribute("data-stage"));
        Assert.Equal(ModelStages.Production, page.Find("[data-testid=stage-points-model-2]").GetAttribute("data-stage"));
        Assert.Equal("None", page.Find("[data-testid=stage-points-model-3]").TextContent.Trim());
        Assert.True(page.Find("[data-testid=promote-points-model-2]").HasAttribute("disabled"));
        Assert.False(page.Find("[data-testid=promote-points-model-3]").HasAttribute("disabled"));
        Assert.Contains("/api/v1/models/points-model/predict", page.Find("[data-testid=predict-points-model]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=stage-zeta-model-1]"));
    }

    [Fact]
    public async Task The_page_settles_after_loading()
    {
        Db(db => { RegistryRows.AddModel(db, "alpha", ModelStages.None); return 0; });
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-alpha-1]")));
        var renders = page.RenderCount;
        await Task.Delay(1000);
        Assert.True(page.RenderCount - renders < 3, $"{page.RenderCount - renders} renders in a second while idle");
    }

    [Fact]
    public void Choosing_a_model_shows_its_versions()
    {
        Db(db => { RegistryRows.AddModel(db, "alpha", ModelStages.None); RegistryRows.AddModel(db, "beta", ModelStages.Staging, ModelStages.None); return 0; });
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-alpha-1]")));

        page.Find("[data-testid=model-beta]").Click();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-beta-2]")));
        Assert.Empty(page.FindAll("[data-testid=stage-alpha-1]"));
    }

    [Fact]
    public void A_query_parameter_chooses_the_model()
    {
        Db(db => { RegistryRows.AddModel(db, "alpha", ModelStages.None); RegistryRows.AddModel(db, "beta", ModelStages.Staging); return 0; });
        Services.GetRequiredService<NavigationManager>().NavigateTo("models?model=beta");

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-beta-1]")));
    }

    [Fact]
    public void Promoting_to_production_asks_then_archives_the_previous_version_and_records_who()
    {
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.Production, ModelStages.Staging); return 0; });
        var dialogs = RenderProviders();
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=promote-points-model-2]")));

        page.Find("[data-testid=promote-points-model-2]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Promote points-model v2 to Production?", dialogs.Markup));
        Assert.Contains("v1 serves predictions now; it is archived and v2 serves from then on.", dialogs.Markup);
        Confirm(dialogs, "Promote to Production");

        page.WaitForAssertion(() => Assert.Equal(ModelStages.Production, page.Find("[data-testid=stage-points-model-2]").GetAttribute("data-stage")));
        Assert.Equal(ModelStages.Archived, page.Find("[data-testid=stage-points-model-1]").GetAttribute("data-stage"));
        Assert.Equal(ModelStages.Production, StageOf("points-model", 2));
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "points-model v2 is now Production.");
        var trail = page.Find("[data-testid=audit-trail]").TextContent;
        Assert.Contains("Staging → Production", trail);
        Assert.Contains("Production → Archived (replaced by v2)", trail);
        Assert.Contains("changed the stage", trail);
        // Now the version Production had before can be put back.
        Assert.Contains("Roll back to v1", page.Find("[data-testid=rollback-points-model]").TextContent);
    }

    [Fact]
    public void Declining_the_confirmation_leaves_production_as_it_was()
    {
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.Production); return 0; });
        var dialogs = RenderProviders();
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=archive-points-model-1]")));

        page.Find("[data-testid=archive-points-model-1]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Take points-model v1 out of Production?", dialogs.Markup));
        Confirm(dialogs, "Cancel");

        dialogs.WaitForAssertion(() => Assert.DoesNotContain("out of Production?", dialogs.Markup));
        Assert.Equal(ModelStages.Production, StageOf("points-model", 1));
    }

    [Fact]
    public void Staging_a_version_outside_production_needs_no_confirmation()
    {
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.None); return 0; });
        var dialogs = RenderProviders();
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=staging-points-model-1]")));

        page.Find("[data-testid=staging-points-model-1]").Click();

        page.WaitForAssertion(() => Assert.Equal(ModelStages.Staging, page.Find("[data-testid=stage-points-model-1]").GetAttribute("data-stage")));
        Assert.DoesNotContain("Production?", dialogs.Markup);
        Assert.Equal(ModelStages.Staging, StageOf("points-model", 1));
    }

    [Fact]
    public async Task Rollback_asks_then_puts_the_previous_production_version_back()
    {
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.Production, ModelStages.None); return 0; });
        await InScopeAsync(s => s.GetRequiredService<RegistryService>().PromoteAsync("points-model", 2, ModelStages.Production, CancellationToken.None));
        var dialogs = RenderProviders();
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=rollback-points-model]")));

        page.Find("[data-testid=rollback-points-model]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Roll back points-model to v1?", dialogs.Markup));
        Assert.Contains("v2 leaves Production and is archived; v1 serves predictions again.", dialogs.Markup);
        Confirm(dialogs, "Roll back");

        page.WaitForAssertion(() => Assert.Equal(ModelStages.Production, page.Find("[data-testid=stage-points-model-1]").GetAttribute("data-stage")));
        Assert.Equal(ModelStages.Production, StageOf("points-model", 1));
        Assert.Equal(ModelStages.Archived, StageOf("points-model", 2));
        // Rolling back again would put v2 back: the button follows Production's history.
        Assert.Contains("Roll back to v2", page.Find("[data-testid=rollback-points-model]").TextContent);
    }

    [Fact]
    public async Task A_run_that_is_already_a_version_says_so_and_registers_again_only_when_asked()
    {
        var paths = Services.GetRequiredService<DataPaths>();
        var runId = Db(db => RegistryRows.FinishedRunWithModelFile(db, paths, "points mlp"));
        await InScopeAsync(s => s.GetRequiredService<RegistryService>().RegisterAsync(runId, "points-model", CancellationToken.None));
        RenderProviders();
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-points-model-1]")));

        page.Find("[data-testid=register-open]").Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=register-form]")));
        var select = page.FindComponent<MudSelect<int?>>();
        await page.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(runId));
        page.Find("[data-testid=register-model-submit]").Click();

        page.WaitForAssertion(() => Assert.Contains($"Run {runId} is already version 1 of model 'points-model'.", page.Find("[data-testid=register-already]").TextContent));
        Assert.Equal(1, Db(db => db.ModelVersions.Count()));

        page.Find("[data-testid=register-again]").Click();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-points-model-2]")));
        Assert.Equal(2, Db(db => db.ModelVersions.Count(v => v.RunId == runId)));
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == $"Run {runId} is registered as points-model v2.");
    }

    [Fact]
    public async Task The_same_run_under_another_model_name_is_registered_without_asking()
    {
        var paths = Services.GetRequiredService<DataPaths>();
        var runId = Db(db => RegistryRows.FinishedRunWithModelFile(db, paths, "points mlp"));
        await InScopeAsync(s => s.GetRequiredService<RegistryService>().RegisterAsync(runId, "points-model", CancellationToken.None));
        RenderProviders();
        var page = Render<Models>();
        page.Find("[data-testid=register-open]").Click();
        var select = page.FindComponent<MudSelect<int?>>();
        await page.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(runId));
        page.Find("input[data-testid=register-model-name], [data-testid=register-model-name] input").Input("points-model-b");

        page.Find("[data-testid=register-model-submit]").Click();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-points-model-b-1]")));
        Assert.Empty(page.FindAll("[data-testid=register-already]"));
    }

    [Fact]
    public async Task A_bad_model_name_is_shown_under_the_field()
    {
        var paths = Services.GetRequiredService<DataPaths>();
        var runId = Db(db => RegistryRows.FinishedRunWithModelFile(db, paths, "points mlp"));
        RenderProviders();
        var page = Render<Models>();
        page.Find("[data-testid=register-open]").Click();
        var select = page.FindComponent<MudSelect<int?>>();
        await page.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(runId));
        page.Find("input[data-testid=register-model-name], [data-testid=register-model-name] input").Input("Bad Name!");

        page.Find("[data-testid=register-model-submit]").Click();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=register-name-problem]")));
        Assert.Equal(0, Db(db => db.ModelVersions.Count()));
    }

    [Fact]
    public void The_registry_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.Production); return 0; });

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=stage-points-model-1]")));
        Assert.Contains("模型注册表", page.Markup);
        Assert.Contains("生产", page.Find("[data-testid=stage-points-model-1]").TextContent);
        Assert.Contains("提升到生产", page.Find("[data-testid=promote-points-model-1]").TextContent);
        Assert.Contains("每页行数", page.Markup);
        Assert.DoesNotContain("Model registry", page.Markup);
    }
}
