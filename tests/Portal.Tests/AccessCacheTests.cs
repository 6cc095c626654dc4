using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ModelOps.Portal.Identity;

namespace ModelOps.Portal.Tests;

/// <summary>
/// The auth path reads tokens, users and roles from memory (AccessCache) once it has seen them; these
/// warm the cache with repeated calls first and prove a revocation still stops the very next request.
/// </summary>
public sealed class AccessCacheTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;
    private readonly HttpClient _admin;

    public AccessCacheTests(PortalFactory portal)
    {
        _portal = portal;
        _admin = portal.CreateClient();
    }

    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task A_token_used_until_the_cache_is_warm_is_refused_on_the_next_request_after_revocation()
    {
        var created = await (await _admin.PostAsJsonAsync("/api/v1/tokens", new { name = "warm-" + Tag() })).Content.ReadFromJsonAsync<JsonElement>();
        var http = _portal.AnonymousClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.GetProperty("token").GetString());
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/experiments")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/tokens/{created.GetProperty("id").GetInt32()}")).StatusCode);
        await HttpAssert.ProblemAsync(await http.GetAsync("/api/v1/experiments"), 401, "revoked");
    }

    [Fact]
    public async Task A_member_removed_from_a_team_gets_404_on_the_next_call_and_a_lowered_role_403()
    {
        var team = await _portal.TeamAsync("cache-" + Tag());
        var userName = "cached-" + Tag();
        var member = await _portal.ClientForAsync(userName, TeamRole.Editor, team);
        var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/experiments") { Content = JsonContent.Create(new { name = "cache-" + Tag() }) };
        create.Headers.Add(PortalClaims.TeamHeader, team.ToString());
        var experiment = await (await _admin.SendAsync(create)).Content.ReadFromJsonAsync<JsonElement>();
        var id = experiment.GetProperty("id").GetInt32();
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"/api/v1/experiments/{id}")).StatusCode);

        // An Editor may write; lowered to Viewer, the next write is refused.
        Assert.Equal(HttpStatusCode.OK, (await _admin.PutAsJsonAsync($"/api/v1/teams/{team}/members/{userName}", new { role = "Viewer" })).StatusCode);
        await HttpAssert.ProblemAsync(await member.DeleteAsync($"/api/v1/experiments/{id}"), 403, "Admin role");
        await HttpAssert.ProblemAsync(await member.PostAsJsonAsync($"/api/v1/experiments/{id}/runs", new { name = "x" }), 403, "Editor role");
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"/api/v1/experiments/{id}")).StatusCode);

        var users = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        var userId = users.EnumerateArray().Single(u => u.GetProperty("userName").GetString() == userName).GetProperty("id").GetInt32();
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/teams/{team}/members/{userId}")).StatusCode);
        await HttpAssert.ProblemAsync(await member.GetAsync($"/api/v1/experiments/{id}"), 404, $"Experiment {id}");
    }

    [Fact]
    public async Task A_disabled_users_warm_token_is_refused_on_the_next_request()
    {
        var userName = "disabled-" + Tag();
        var user = await _portal.ClientForAsync(userName, TeamRole.Viewer);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/v1/experiments")).StatusCode);
        var users = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        var userId = users.EnumerateArray().Single(u => u.GetProperty("userName").GetString() == userName).GetProperty("id").GetInt32();
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.PostAsync($"/api/v1/users/{userId}/disable", null)).StatusCode);
        await HttpAssert.ProblemAsync(await user.GetAsync("/api/v1/experiments"), 401, "disabled");
    }
}
