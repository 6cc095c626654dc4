using Microsoft.AspNetCore.Components;
using ModelOps.Portal.Registry;
using MudBlazor;

namespace ModelOps.Ui.Tests.Registry;

/// <summary>The selected model's detail links to its Review page, embeds the serving panel and offers a Production request per version.</summary>
public sealed class ModelsGovernanceLinksTests : PortalUiTest
{
    public ModelsGovernanceLinksTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    [Fact]
    public void The_detail_has_a_review_link_the_serving_panel_and_request_buttons_for_versions_not_in_Production()
    {
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.Production, ModelStages.None); return 0; });
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        Render<MudDialogProvider>();

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=model-detail-points-model]")));
        Assert.Equal("/models/points-model/review", page.Find("[data-testid=review-points-model]").GetAttribute("href"));
        Assert.NotNull(page.Find("[data-testid=model-detail-points-model] [data-testid=serving-panel]"));
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=request-points-model-2]")));
        Assert.Empty(page.FindAll("[data-testid=request-points-model-1]"));
    }
}
