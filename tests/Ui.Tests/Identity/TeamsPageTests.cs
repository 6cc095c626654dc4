using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Identity;
using MudBlazor;

namespace ModelOps.Ui.Tests.Identity;

/// <summary>
/// The Teams and users page over real users and memberships: members render with their roles, a team's Admin
/// adds members, a site Admin creates users (the password shown once) and disables them after a confirmation,
/// a Viewer sees no admin actions and a forged action is refused by the handler's own check, zh-CN renders.
/// </summary>
public sealed class TeamsPageTests : PortalUiTest
{
    public TeamsPageTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    private IRenderedComponent<MudDialogProvider> RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<MudDialogProvider>();
    }

    private Task<int> UserAsync(string name, TeamRole? role = null, int team = Team.DefaultId) => InScopeAsync(async sp =>
    {
        var people = sp.GetRequiredService<People>();
        var id = (await people.CreateUserAsync(name, name.ToUpperInvariant(), name + "-test-password", false, CancellationToken.None, actor: "test")).Id;
        if (role is { } r) await people.SetMemberAsync(team, name, r, CancellationToken.None, actor: "test");
        return id;
    });

    private TeamRole? RoleOf(string name, int team = Team.DefaultId) =>
        Db(db => db.TeamMembers.Where(m => m.TeamId == team && db.Users.Any(u => u.Id == m.UserId && u.UserName == name)).Select(m => (TeamRole?)m.Role).FirstOrDefault());

    [Fact]
    public async Task Members_render_with_their_roles()
    {
        var bob = await UserAsync("bob", TeamRole.Editor);
        RenderProviders();
        var page = Render<Teams>();
        page.WaitForAssertion(() => Assert.Contains("bob", page.Find($"[data-testid=team-{Team.DefaultId}-members]").TextContent));
        Assert.Contains("BOB", page.Find($"[data-testid=team-{Team.DefaultId}-members]").TextContent);
        Assert.NotNull(page.Find($"[data-testid=member-{Team.DefaultId}-{bob}-select]"));
        Assert.Contains("Admin", page.Find($"[data-testid=team-{Team.DefaultId}-my-role]").TextContent);
    }

    [Fact]
    public async Task A_team_Admin_adds_a_member_and_changes_a_role()
    {
        await UserAsync("carol");
        RenderProviders();
        var page = Render<Teams>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=team-{Team.DefaultId}-add-name]")));
        page.Find($"[data-testid=team-{Team.DefaultId}-add-name]").Input("carol");
        page.Find($"[data-testid=team-{Team.DefaultId}-add]").Click();
        page.WaitForAssertion(() => Assert.Contains("carol", page.Find($"[data-testid=team-{Team.DefaultId}-members]").TextContent));
        Assert.Equal(TeamRole.Viewer, RoleOf("carol"));
        Assert.Empty(page.FindAll("[data-testid=teams-error]"));

        await page.InvokeAsync(() => page.Instance.SetMemberAsync(Team.DefaultId, "carol", TeamRole.Approver));
        Assert.Equal(TeamRole.Approver, RoleOf("carol"));

        // An unknown user is explained, not thrown.
        await page.InvokeAsync(() => page.Instance.SetMemberAsync(Team.DefaultId, "nobody", TeamRole.Viewer));
        page.WaitForAssertion(() => Assert.Contains("no user named nobody", page.Find("[data-testid=teams-error]").TextContent));
    }

    [Fact]
    public async Task Removing_the_last_Admin_is_refused_with_a_message()
    {
        var team = await InScopeAsync(async sp => (await sp.GetRequiredService<People>().CreateTeamAsync("solo", null, CancellationToken.None)).Id);
        var sole = await UserAsync("sole", TeamRole.Admin, team);
        RenderProviders();
        var page = Render<Teams>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=team-{team}-members]")));
        await page.InvokeAsync(() => page.Instance.RemoveMemberAsync(team, sole, "sole"));
        page.WaitForAssertion(() => Assert.Contains("at least one Admin", page.Find("[data-testid=teams-error]").TextContent));
        Assert.Equal(TeamRole.Admin, RoleOf("sole", team));
    }

    [Fact]
    public async Task A_Viewer_sees_no_admin_actions_and_a_forged_action_is_refused()
    {
        await UserAsync("target", TeamRole.Viewer);
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();
        var page = Render<Teams>();
        page.WaitForAssertion(() => Assert.Contains("target", page.Find($"[data-testid=team-{Team.DefaultId}-members]").TextContent));
        Assert.Empty(page.FindAll($"[data-testid=team-{Team.DefaultId}-add]"));
        Assert.Empty(page.FindAll("[data-testid$=-remove]"));
        Assert.Empty(page.FindAll("[data-testid$=-select]"));
        Assert.Empty(page.FindAll("[data-testid=team-create-form]"));
        Assert.Empty(page.FindAll("[data-testid=user-list]"));

        await page.InvokeAsync(() => page.Instance.SetMemberAsync(Team.DefaultId, "target", TeamRole.Admin));
        page.WaitForAssertion(() => Assert.Contains("Admin role", page.Find("[data-testid=teams-error]").TextContent));
        Assert.Equal(TeamRole.Viewer, RoleOf("target"));

        await page.InvokeAsync(() => page.Instance.CreateUserAsync("mallory", null, true));
        page.WaitForAssertion(() => Assert.Contains("site Admin", page.Find("[data-testid=teams-error]").TextContent));
        Assert.False(Db(db => db.Users.Any(u => u.UserName == "mallory")));

        await page.InvokeAsync(() => page.Instance.SetDisabledAsync(UserId, true));
        page.WaitForAssertion(() => Assert.Contains("site Admin", page.Find("[data-testid=teams-error]").TextContent));
    }

    [Fact]
    public async Task A_site_Admin_creates_a_user_sees_the_password_once_and_disables_after_confirming()
    {
        var dialogs = RenderProviders();
        var page = Render<Teams>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=user-create]")));
        page.Find("[data-testid=user-name]").Input("dora");
        page.Find("[data-testid=user-create]").Click();
        page.WaitForAssertion(() => Assert.Equal(16, page.Find("[data-testid=teams-password]").TextContent.Trim().Length));
        var id = Db(db => db.Users.Single(u => u.UserName == "dora").Id);
        page.WaitForAssertion(() => Assert.Contains("active", page.Find($"[data-testid=user-{id}-status]").TextContent));

        page.Find($"[data-testid=user-{id}-toggle]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Disable dora?", dialogs.Markup));
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Disable").Click();
        page.WaitForAssertion(() => Assert.Contains("disabled", page.Find($"[data-testid=user-{id}-status]").TextContent));
        Assert.NotNull(Db(db => db.Users.Single(u => u.Id == id).DisabledAt));

        await page.InvokeAsync(() => page.Instance.ResetPasswordAsync(id, "dora"));
        page.WaitForAssertion(() => Assert.Contains("new password of dora", page.Find("[data-testid=teams-secret]").TextContent));
    }

    [Fact]
    public async Task The_page_speaks_chinese_in_zh_CN()
    {
        await UserAsync("bob", TeamRole.Editor);
        UseCulture(PortalCultures.Chinese);
        RenderProviders();
        var page = Render<Teams>();
        page.WaitForAssertion(() => Assert.Contains("bob", page.Markup));
        Assert.Contains("团队和用户", page.Markup);
        Assert.Contains("添加成员", page.Find($"[data-testid=team-{Team.DefaultId}-add]").TextContent);
        Assert.Contains("创建用户", page.Markup);
        Assert.DoesNotContain("Add member", page.Markup);
        Assert.DoesNotContain("Create user", page.Markup);
    }
}
