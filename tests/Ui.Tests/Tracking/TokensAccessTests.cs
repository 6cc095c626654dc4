using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Tracking;

namespace ModelOps.Ui.Tests.Tracking;

/// <summary>
/// Personal and service tokens on the Tokens page: a read-only personal token, service tokens for a
/// team's Admins only (team and role pickers), the Kind and Role columns, and a forged service token
/// by a non-Admin refused with the service's reason.
/// </summary>
public sealed class TokensAccessTests : TrackingUiTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_read_only_personal_token_is_made_and_listed_as_personal_and_read_only()
    {
        RenderProviders();
        var page = Render<Tokens>();
        page.Find("[data-testid=token-name]").Input("reader");
        page.Find("[data-testid=token-readonly]").Change(true);
        page.Find("[data-testid=token-create]").Click();
        page.WaitForAssertion(() => Assert.StartsWith("mop_", page.Find("[data-testid=token-secret]").TextContent), Wait);

        var token = Db(db => db.ApiTokens.Single(t => t.Name == "reader"));
        Assert.True(token.ReadOnly);
        Assert.Null(token.TeamId);
        page.WaitForAssertion(() => Assert.Equal("personal", page.Find($"[data-testid=token-kind-{token.Id}]").GetAttribute("data-kind")), Wait);
        Assert.Contains("personal", page.Find($"[data-testid=token-kind-{token.Id}]").TextContent);
        Assert.Contains("read-only", page.Find($"[data-testid=token-role-{token.Id}]").TextContent);
    }

    [Fact]
    public async Task A_team_admin_makes_a_service_token_with_a_role_and_it_is_listed_as_service()
    {
        RenderProviders();
        var page = Render<Tokens>();
        page.Find("[data-testid=token-name]").Input("ci");
        page.Find("[data-testid=token-service]").Change(true);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=token-role]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=token-readonly]"));
        // The role picker is a MudSelect: set it as its ValueChanged would.
        var select = page.FindComponents<MudBlazor.MudSelect<TeamRole>>().Single();
        await page.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(TeamRole.Editor));
        page.Find("[data-testid=token-create]").Click();
        page.WaitForAssertion(() => Assert.StartsWith("mop_", page.Find("[data-testid=token-secret]").TextContent), Wait);

        var token = Db(db => db.ApiTokens.Single(t => t.Name == "ci"));
        Assert.Equal(Team.DefaultId, token.TeamId);
        Assert.Equal(TeamRole.Editor, token.Role);
        Assert.Null(token.UserId);
        page.WaitForAssertion(() => Assert.Equal("service", page.Find($"[data-testid=token-kind-{token.Id}]").GetAttribute("data-kind")), Wait);
        Assert.Contains("Editor", page.Find($"[data-testid=token-role-{token.Id}]").TextContent);
    }

    [Fact]
    public async Task A_non_admin_gets_no_service_option_and_a_forged_service_token_is_refused()
    {
        await SignInAsync("edna", TeamRole.Editor);
        RenderProviders();
        var page = Render<Tokens>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=token-readonly]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=token-service]"));

        // A forged event: the hidden option switched on and the form submitted.
        var field = typeof(Tokens).GetField("service", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var teamField = typeof(Tokens).GetField("teamId", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        field.SetValue(page.Instance, true);
        teamField.SetValue(page.Instance, (int?)Team.DefaultId);
        page.Find("[data-testid=token-name]").Input("sneaky");
        await page.InvokeAsync(() => EventCallback.Factory.Create(page.Instance, page.Instance.CreateAsync).InvokeAsync());

        page.WaitForAssertion(() => Assert.Contains("needs the Admin role", page.Find("[data-testid=token-error]").TextContent), Wait);
        Assert.Empty(Db(db => db.ApiTokens.ToList()));
    }

    [Fact]
    public async Task A_viewer_still_makes_a_personal_token()
    {
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();
        var page = Render<Tokens>();
        page.Find("[data-testid=token-name]").Input("laptop");
        page.Find("[data-testid=token-create]").Click();
        page.WaitForAssertion(() => Assert.StartsWith("mop_", page.Find("[data-testid=token-secret]").TextContent), Wait);
        Assert.Null(Db(db => db.ApiTokens.Single()).TeamId);
    }

    [Fact]
    public async Task Another_admins_service_token_of_a_team_one_does_not_admin_is_not_listed()
    {
        var other = await InScopeAsync(async sp => (await sp.GetRequiredService<People>().CreateTeamAsync("other", null, CancellationToken.None)).Id);
        await InScopeAsync(sp => sp.GetRequiredService<TokenService>().CreateAsync(new NewToken("their ci", TeamId: other, Role: "Viewer"), CancellationToken.None));
        await SignInAsync("otto", TeamRole.Admin);
        var page = Render<Tokens>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=token-none]")), Wait);
        Assert.DoesNotContain("their ci", page.Markup);
    }
}
