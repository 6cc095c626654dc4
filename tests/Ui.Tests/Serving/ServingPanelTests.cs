using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Serving;
using ModelOps.Ui.Tests.Registry;
using MudBlazor;

namespace ModelOps.Ui.Tests.Serving;

/// <summary>The serving panel: canary controls by role, agreement and drift from stored rows.</summary>
public sealed class ServingPanelTests : PortalUiTest
{
    public ServingPanelTests() => SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));

    private IRenderedComponent<ServingPanel> RenderPanel()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<ServingPanel>(p => p.Add(x => x.ModelName, "points").Add(x => x.RefreshSeconds, 0));
    }

    private (int V1, int V2) Versions() => Db(db =>
    {
        var ids = db.ModelVersions.Where(v => v.RegisteredModel!.Name == "points").OrderBy(v => v.Version).Select(v => v.Id).ToList();
        return (ids[0], ids[1]);
    });

    [Fact]
    public async Task An_Approver_sets_a_canary_on_the_Staging_version_and_drops_it()
    {
        Db(db => { RegistryRows.AddModel(db, "points", ModelStages.Production, ModelStages.Staging); return 0; });
        await SignInAsync("paula", ModelOps.Portal.Identity.TeamRole.Approver);
        var panel = RenderPanel();
        panel.WaitForAssertion(() => Assert.False(panel.Find("[data-testid=canary-set]").HasAttribute("disabled")));
        Assert.True(panel.Find("[data-testid=canary-drop]").HasAttribute("disabled"));

        panel.Find("[data-testid=canary-set]").Click();

        panel.WaitForAssertion(() => Assert.Contains("v2", panel.Find("[data-testid=serving-canary]").TextContent));
        var deployment = Db(db => db.Set<ModelDeployment>().AsNoTracking().Single());
        Assert.Equal((2, 10, "paula"), (deployment.CanaryVersion, deployment.CanaryPercent, deployment.UpdatedBy));

        panel.Find("[data-testid=canary-drop]").Click();
        panel.WaitForAssertion(() => Assert.Empty(panel.FindAll("[data-testid=serving-canary]")));
        Assert.Null(Db(db => db.Set<ModelDeployment>().AsNoTracking().Single().CanaryVersion));
    }

    [Fact]
    public async Task A_Viewer_sees_the_figures_but_no_enabled_controls_and_red_features_are_marked()
    {
        Db(db => { RegistryRows.AddModel(db, "points", ModelStages.Production, ModelStages.Staging); return 0; });
        var (v1, v2) = Versions();
        var minute = DateTime.UtcNow.AddMinutes(-2);
        minute = new DateTime(minute.Year, minute.Month, minute.Day, minute.Hour, minute.Minute, 0, DateTimeKind.Utc);
        Db(db =>
        {
            db.Set<ModelDeployment>().Add(new ModelDeployment { RegisteredModelId = db.RegisteredModels.Single().Id, ShadowVersion = 2, UpdatedBy = "ada", UpdatedAt = DateTime.UtcNow });
            db.Set<ServingMinute>().Add(new ServingMinute { ModelVersionId = v1, Minute = minute, Role = "production", Requests = 40, Errors = 2, P50Ms = 1, P95Ms = 2, P99Ms = 3 });
            db.Set<ServingMinute>().Add(new ServingMinute { ModelVersionId = v2, Minute = minute, Role = "shadow", ShadowCompared = 40, ShadowAgreed = 30 });
            db.Set<DriftPoint>().Add(new DriftPoint { ModelVersionId = v1, At = minute, Feature = "x", Psi = 0.9, OverThreshold = true });
            db.Set<DriftPoint>().Add(new DriftPoint { ModelVersionId = v1, At = minute, Feature = "y", Psi = 0.01, OverThreshold = false });
            return db.SaveChanges();
        });
        await SignInAsync("vic", ModelOps.Portal.Identity.TeamRole.Viewer);

        var panel = RenderPanel();

        panel.WaitForAssertion(() => Assert.Equal("true", panel.Find("[data-testid=drift-feature-x]").GetAttribute("data-red")));
        Assert.Equal("false", panel.Find("[data-testid=drift-feature-y]").GetAttribute("data-red"));
        Assert.Contains("75", panel.Find("[data-testid=shadow-agreement]").TextContent);
        Assert.True(panel.Find("[data-testid=canary-set]").HasAttribute("disabled"));
        Assert.NotNull(panel.Find("[data-testid=serving-requests-chart]"));
        Assert.NotNull(panel.Find("[data-testid=serving-drift-chart]"));
    }

    [Fact]
    public async Task Someone_outside_the_team_sees_nothing()
    {
        Db(db => { RegistryRows.AddModel(db, "points", ModelStages.Production); return 0; });
        await SignInAsync("outsider");
        var panel = RenderPanel();
        panel.WaitForAssertion(() => Assert.NotNull(panel.Find("[data-testid=serving-panel]")));
        Assert.Empty(panel.FindAll("[data-testid=canary-set]"));
    }
}
