using Microsoft.AspNetCore.Components;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;
using ModelOps.Ui.Tests.Registry;
using HomePage = ModelOps.Portal.Home.Home;

namespace ModelOps.Ui.Tests.Home;

/// <summary>The overview: tiles, recent runs and the models in Production, from real rows.</summary>
public sealed class HomePageTests : PortalUiTest
{
    public HomePageTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    [Fact]
    public async Task The_tiles_count_runs_the_queue_and_production_models()
    {
        Db(db =>
        {
            RegistryRows.AddModel(db, "points-model", ModelStages.Archived, ModelStages.Production);
            RegistryRows.AddModel(db, "other-model", ModelStages.Staging);
            RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued mlp", RunStatus.Queued));
            RegistryRows.AddRun(db, RegistryRows.TrainingRun("running mlp", RunStatus.Running, 0.5));
            return 0;
        });
        await InScopeAsync(s => RegistryRows.ClientReportedRunAsync(s, "notebook run"));

        var page = Render<HomePage>();

        // Three finished runs behind the versions, one queued, one scheduled running, one reported by a client.
        Assert.Equal("6", page.Find("[data-testid=count-runs] .mud-typography-h4").GetAttribute("data-value"));
        Assert.Equal("2", page.Find("[data-testid=count-runs-Running]").GetAttribute("data-value"));
        // The queue is what the portal schedules: the client's run is not in it.
        Assert.Equal("2", page.Find("[data-testid=count-queue] .mud-typography-h4").GetAttribute("data-value"));
        Assert.Equal("1", page.Find("[data-testid=count-production] .mud-typography-h4").GetAttribute("data-value"));
        Assert.Contains("v2", page.Find("[data-testid=production-points-model]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=production-other-model]"));
        var recent = page.Find("[data-testid=recent-runs]").TextContent;
        Assert.Contains("notebook run", recent);
        Assert.Contains("reported by a client", recent);
    }

    [Fact]
    public void An_empty_portal_says_where_to_start()
    {
        var page = Render<HomePage>();

        Assert.Contains("No runs yet.", page.Find("[data-testid=recent-runs-empty]").TextContent);
        Assert.NotNull(page.Find("[data-testid=production-empty]"));
        Assert.Equal("0", page.Find("[data-testid=count-datasets] .mud-typography-h4").GetAttribute("data-value"));
    }

    [Fact]
    public void The_overview_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued mlp", RunStatus.Queued)));

        var page = Render<HomePage>();

        Assert.Contains("概览", page.Markup);
        Assert.Contains("最近的运行", page.Markup);
        Assert.Contains("排队中", page.Find("[data-testid=recent-runs]").TextContent);
        Assert.DoesNotContain("Recent runs", page.Markup);
    }
}
