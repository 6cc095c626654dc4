using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Registry;
using MudBlazor;

namespace ModelOps.Ui.Tests.Registry;

/// <summary>The Models page's governance panel: a request asked, its gates shown, approved by another user, the history and aliases.</summary>
public sealed class GovernancePanelTests : PortalUiTest
{
    public GovernancePanelTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    private void RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        Render<MudDialogProvider>();
    }

    private string StageOf(int version) =>
        Db(db => db.ModelVersions.AsNoTracking().Single(v => v.RegisteredModel!.Name == "points-model" && v.Version == version).Stage);

    [Fact]
    public async Task An_editor_asks_the_gates_show_and_another_approver_approves_into_Production()
    {
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.Production, ModelStages.None); return 0; });
        await InScopeAsync(async sp => await sp.GetRequiredService<RegistryService>().SetPolicyAsync("points-model", new PolicyRequest(true, "accuracy", 0.9, false), CancellationToken.None));
        RenderProviders();

        await SignInAsync("ed", TeamRole.Editor);
        var panel = Render<GovernancePanel>(p => p.Add(x => x.Model, "points-model").Add(x => x.Role, TeamRole.Editor));
        panel.Find("input[data-testid=request-note], [data-testid=request-note] input").Change("better on b");
        panel.Find("[data-testid=request-points-model-2]").Click();
        panel.WaitForAssertion(() => Assert.NotNull(panel.Find("[data-testid=promotion-request-1]")));
        Assert.Equal("true", panel.Find("[data-testid=gate-1-metric]").GetAttribute("data-passed"));
        Assert.Contains("0.93 >= 0.9", panel.Find("[data-testid=gate-1-metric]").TextContent);
        // An Editor is not offered the decision.
        Assert.Empty(panel.FindAll("[data-testid=approve-request-1]"));

        await SignInAsync("bob", TeamRole.Approver);
        var approver = Render<GovernancePanel>(p => p.Add(x => x.Model, "points-model").Add(x => x.Role, TeamRole.Approver));
        approver.Find("input[data-testid=decision-note-1], [data-testid=decision-note-1] input").Change("ok");
        approver.Find("[data-testid=approve-request-1]").Click();
        approver.WaitForAssertion(() => Assert.Equal("Approved", approver.Find("[data-testid=promotion-request-1]").GetAttribute("data-status")));
        Assert.Equal(ModelStages.Production, StageOf(2));
        Assert.Equal(ModelStages.Archived, StageOf(1));
        Assert.Contains(approver.FindAll("[data-testid=history-row]"), r => r.TextContent.Contains("request 1 approved"));
    }

    [Fact]
    public async Task The_requester_cannot_approve_their_own_request_when_two_people_are_required()
    {
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.None); return 0; });
        await InScopeAsync(async sp => await sp.GetRequiredService<RegistryService>().SetPolicyAsync("points-model", new PolicyRequest(true, null, null, false), CancellationToken.None));
        await SignInAsync("ann", TeamRole.Approver);
        await InScopeAsync(async sp => await sp.GetRequiredService<RegistryService>().RequestPromotionAsync("points-model", 1, "mine", CancellationToken.None));
        RenderProviders();

        var panel = Render<GovernancePanel>(p => p.Add(x => x.Model, "points-model").Add(x => x.Role, TeamRole.Approver));
        panel.Find("[data-testid=approve-request-1]").Click();
        panel.WaitForAssertion(() => Assert.Contains("requires two people", panel.Find("[data-testid=governance-error]").TextContent));
        Assert.Equal(ModelStages.None, StageOf(1));
    }

    [Fact]
    public void An_editor_sets_an_alias_and_sees_it_as_a_chip()
    {
        Db(db => { RegistryRows.AddModel(db, "points-model", ModelStages.None, ModelStages.None); return 0; });
        RenderProviders();
        var panel = Render<GovernancePanel>(p => p.Add(x => x.Model, "points-model").Add(x => x.Role, TeamRole.Admin));
        panel.Find("input[data-testid=alias-name], [data-testid=alias-name] input").Change("champion");
        panel.Find("input[data-testid=alias-version], [data-testid=alias-version] input").Change("2");
        panel.Find("[data-testid=alias-set]").Click();
        panel.WaitForAssertion(() => Assert.Contains("champion → v2", panel.Find("[data-testid=alias-champion]").TextContent));
        Assert.Equal(1, Db(db => db.AuditEvents.Count(a => a.Action == "model.alias.set" && a.After == "v2")));
    }
}
