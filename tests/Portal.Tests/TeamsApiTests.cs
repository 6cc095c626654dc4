using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Identity;

namespace ModelOps.Portal.Tests;

/// <summary>
/// Teams, members and users over real HTTP with real tokens: the site Admin creates teams and users, a
/// team's Admin manages its members, lower roles get 403 and other teams 404, a disabled user or a
/// changed role takes effect on the very next request, a team keeps its last Admin, and every change is audited.
/// </summary>
public sealed class TeamsApiTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;
    private readonly HttpClient _admin;

    public TeamsApiTests(PortalFactory portal)
    {
        _portal = portal;
        _admin = portal.CreateClient();
    }

    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<int> UserIdAsync(string userName)
    {
        var users = await JsonAsync(await _admin.GetAsync("/api/v1/users"), HttpStatusCode.OK);
        return users.EnumerateArray().Single(u => u.GetProperty("userName").GetString() == userName).GetProperty("id").GetInt32();
    }

    [Fact]
    public async Task The_site_Admin_creates_a_team_and_users_and_a_generated_password_is_returned_once()
    {
        var name = "vision-" + Tag();
        var team = await JsonAsync(await _admin.PostAsJsonAsync("/api/v1/teams", new { name, description = "image models" }), HttpStatusCode.Created);
        Assert.Equal(name, team.GetProperty("name").GetString());
        var teams = await JsonAsync(await _admin.GetAsync("/api/v1/teams"), HttpStatusCode.OK);
        Assert.Contains(teams.EnumerateArray(), t => t.GetProperty("name").GetString() == name);

        var generated = await JsonAsync(await _admin.PostAsJsonAsync("/api/v1/users", new { userName = "dana-" + Tag(), displayName = "Dana" }), HttpStatusCode.Created);
        Assert.Equal(16, generated.GetProperty("password").GetString()!.Length);
        var chosen = await JsonAsync(await _admin.PostAsJsonAsync("/api/v1/users", new { userName = "eve-" + Tag(), password = "a-long-chosen-password" }), HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Null, chosen.GetProperty("password").ValueKind);

        // The list never carries a password.
        var users = await _admin.GetStringAsync("/api/v1/users");
        Assert.DoesNotContain(generated.GetProperty("password").GetString()!, users);

        await HttpAssert.ProblemAsync(await _admin.PostAsJsonAsync("/api/v1/teams", new { name }), 409, "exists already");
    }

    [Fact]
    public async Task Only_a_site_Admin_creates_teams_and_manages_users()
    {
        var teamAdmin = await _portal.ClientForAsync("ta-" + Tag(), TeamRole.Admin);
        await HttpAssert.ProblemAsync(await teamAdmin.PostAsJsonAsync("/api/v1/teams", new { name = "x-" + Tag() }), 403, "site Admin");
        await HttpAssert.ProblemAsync(await teamAdmin.GetAsync("/api/v1/users"), 403, "site Admin");
        await HttpAssert.ProblemAsync(await teamAdmin.PostAsJsonAsync("/api/v1/users", new { userName = "y-" + Tag() }), 403, "site Admin");
        await HttpAssert.ProblemAsync(await teamAdmin.PostAsync("/api/v1/users/1/reset-password", null), 403, "site Admin");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _portal.AnonymousClient().GetAsync("/api/v1/teams")).StatusCode);
    }

    [Fact]
    public async Task A_team_Admin_adds_a_member_and_a_Viewer_is_refused()
    {
        var team = await _portal.TeamAsync("nlp-" + Tag());
        var admin = await _portal.ClientForAsync("nlp-admin-" + Tag(), TeamRole.Admin, team);
        var viewerName = "nlp-viewer-" + Tag();
        var viewer = await _portal.ClientForAsync(viewerName, TeamRole.Viewer, team);
        var newcomer = "nlp-new-" + Tag();
        await JsonAsync(await _admin.PostAsJsonAsync("/api/v1/users", new { userName = newcomer }), HttpStatusCode.Created);

        var added = await JsonAsync(await admin.PutAsJsonAsync($"/api/v1/teams/{team}/members/{newcomer}", new { role = "editor" }), HttpStatusCode.OK);
        Assert.Equal("Editor", added.GetProperty("role").GetString());
        var members = await JsonAsync(await viewer.GetAsync($"/api/v1/teams/{team}/members"), HttpStatusCode.OK);
        Assert.Contains(members.EnumerateArray(), m => m.GetProperty("userName").GetString() == newcomer && m.GetProperty("role").GetString() == "Editor");

        await HttpAssert.ProblemAsync(await viewer.PutAsJsonAsync($"/api/v1/teams/{team}/members/{newcomer}", new { role = "Admin" }), 403, "Admin role");
        await HttpAssert.ProblemAsync(await viewer.DeleteAsync($"/api/v1/teams/{team}/members/{await UserIdAsync(newcomer)}"), 403, "Admin role");
        await HttpAssert.ProblemAsync(await admin.PutAsJsonAsync($"/api/v1/teams/{team}/members/{newcomer}", new { role = "Owner" }), 400, "Viewer, Editor, Approver or Admin");
        await HttpAssert.ProblemAsync(await admin.PutAsJsonAsync($"/api/v1/teams/{team}/members/{newcomer}", new { role = "2" }), 400, "Viewer, Editor, Approver or Admin");
        await HttpAssert.ProblemAsync(await admin.PutAsJsonAsync($"/api/v1/teams/{team}/members/nobody-{Tag()}", new { role = "Viewer" }), 400, "no user named");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/teams/{team}/members/{await UserIdAsync(newcomer)}")).StatusCode);
        members = await JsonAsync(await viewer.GetAsync($"/api/v1/teams/{team}/members"), HttpStatusCode.OK);
        Assert.DoesNotContain(members.EnumerateArray(), m => m.GetProperty("userName").GetString() == newcomer);
    }

    [Fact]
    public async Task Another_teams_members_answer_404_to_a_non_member()
    {
        var mine = await _portal.TeamAsync("mine-" + Tag());
        var theirs = await _portal.TeamAsync("theirs-" + Tag());
        var outsider = await _portal.ClientForAsync("outsider-" + Tag(), TeamRole.Admin, mine);
        await HttpAssert.ProblemAsync(await outsider.GetAsync($"/api/v1/teams/{theirs}/members"), 404, $"Team {theirs} was not found");
        await HttpAssert.ProblemAsync(await outsider.PutAsJsonAsync($"/api/v1/teams/{theirs}/members/admin", new { role = "Viewer" }), 404, $"Team {theirs}");
        var visible = await JsonAsync(await outsider.GetAsync("/api/v1/teams"), HttpStatusCode.OK);
        Assert.Equal([mine], visible.EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
    }

    [Fact]
    public async Task A_disabled_users_token_answers_401_on_the_next_request_and_works_again_when_enabled()
    {
        var name = "erin-" + Tag();
        var erin = await _portal.ClientForAsync(name, TeamRole.Viewer);
        Assert.Equal(HttpStatusCode.OK, (await erin.GetAsync("/api/v1/teams")).StatusCode);
        var id = await UserIdAsync(name);

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.PostAsync($"/api/v1/users/{id}/disable", null)).StatusCode);
        await HttpAssert.ProblemAsync(await erin.GetAsync("/api/v1/teams"), 401, "disabled");
        var users = await JsonAsync(await _admin.GetAsync("/api/v1/users"), HttpStatusCode.OK);
        Assert.True(users.EnumerateArray().Single(u => u.GetProperty("id").GetInt32() == id).GetProperty("disabled").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.PostAsync($"/api/v1/users/{id}/enable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await erin.GetAsync("/api/v1/teams")).StatusCode);
    }

    [Fact]
    public async Task A_reset_password_is_returned_and_replaces_the_old_one()
    {
        var name = "frank-" + Tag();
        await JsonAsync(await _admin.PostAsJsonAsync("/api/v1/users", new { userName = name, password = "the-first-password" }), HttpStatusCode.Created);
        var id = await UserIdAsync(name);
        var reset = await JsonAsync(await _admin.PostAsync($"/api/v1/users/{id}/reset-password", null), HttpStatusCode.OK);
        var password = reset.GetProperty("password").GetString()!;
        var (newOk, oldOk) = await _portal.InScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<PortalUser>>();
            var user = (await users.FindByNameAsync(name))!;
            return (await users.CheckPasswordAsync(user, password), await users.CheckPasswordAsync(user, "the-first-password"));
        });
        Assert.True(newOk);
        Assert.False(oldOk);
        await HttpAssert.ProblemAsync(await _admin.PostAsync("/api/v1/users/999999/reset-password", null), 404, "User 999999");
    }

    [Fact]
    public async Task A_role_change_takes_effect_on_the_next_request_and_is_audited_with_before_and_after()
    {
        var name = "gina-" + Tag();
        var gina = await _portal.ClientForAsync(name, TeamRole.Editor);
        await JsonAsync(await gina.PostAsJsonAsync("/api/v1/experiments", new { name = "exp-" + Tag() }), HttpStatusCode.Created);

        await JsonAsync(await _admin.PutAsJsonAsync($"/api/v1/teams/{Team.DefaultId}/members/{name}", new { role = "Viewer" }), HttpStatusCode.OK);
        await HttpAssert.ProblemAsync(await gina.PostAsJsonAsync("/api/v1/experiments", new { name = "exp-" + Tag() }), 403, "Editor role");

        var events = _portal.Db(db => db.AuditEvents.Where(e => e.Subject == $"team:default:{name}").OrderBy(e => e.Id).ToList());
        var added = Assert.Single(events, e => e.Action == "member.added");
        Assert.Null(added.Before);
        Assert.Equal("Editor", added.After);
        var changed = Assert.Single(events, e => e.Action == "member.role.changed");
        Assert.Equal("Editor", changed.Before);
        Assert.Equal("Viewer", changed.After);
        Assert.Equal(PortalFactory.AdminName, changed.Actor);
        Assert.Equal(Team.DefaultId, changed.TeamId);
    }

    [Fact]
    public async Task The_last_Admin_of_a_team_cannot_be_removed_or_demoted()
    {
        var teamName = "solo-" + Tag();
        var team = await _portal.TeamAsync(teamName);
        var name = "sole-" + Tag();
        await _portal.ClientForAsync(name, TeamRole.Admin, team);
        var id = await UserIdAsync(name);
        await HttpAssert.ProblemAsync(await _admin.DeleteAsync($"/api/v1/teams/{team}/members/{id}"), 409, "at least one Admin");
        await HttpAssert.ProblemAsync(await _admin.PutAsJsonAsync($"/api/v1/teams/{team}/members/{name}", new { role = "Editor" }), 409, "at least one Admin");

        // With a second Admin the first may go.
        var second = "second-" + Tag();
        await _portal.ClientForAsync(second, TeamRole.Admin, team);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/teams/{team}/members/{id}")).StatusCode);
        var removed = _portal.Db(db => db.AuditEvents.Single(e => e.Action == "member.removed" && e.Subject == $"team:{teamName}:{name}"));
        Assert.Equal("Admin", removed.Before);
    }
}
