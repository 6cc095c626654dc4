using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>Registry governance over real HTTP with different users: requests, approvals, gates, rollback, history, aliases, cards.</summary>
public sealed class GovernanceTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _admin;
    private readonly TempFolder _work = new();

    public GovernanceTests()
    {
        _admin = _portal.ClientForAsync("dana", Identity.TeamRole.Admin).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _portal.Dispose();
        _work.Dispose();
    }

    private Task<int> FinishedRunAsync(string dataset) => SimulatedWorker.FinishedCsvRunAsync(_portal, _admin, _work.Path, dataset);

    private async Task RegisterTwoAsync()
    {
        var first = await FinishedRunAsync("points-a");
        var second = await FinishedRunAsync("points-b");
        (await _admin.PostAsJsonAsync("/api/v1/models/points/versions", new { runId = first })).EnsureSuccessStatusCode();
        (await _admin.PostAsJsonAsync("/api/v1/models/points/versions", new { runId = second })).EnsureSuccessStatusCode();
    }

    private async Task<string> StageOfAsync(int version) =>
        (await _admin.GetFromJsonAsync<JsonElement>("/api/v1/models/points")).GetProperty("versions").EnumerateArray()
            .First(v => v.GetProperty("version").GetInt32() == version).GetProperty("stage").GetString()!;

    [Fact]
    public async Task A_request_approved_by_another_user_puts_the_version_in_Production_and_the_requester_cannot_approve_their_own()
    {
        await RegisterTwoAsync();
        var editor = await _portal.ClientForAsync("ed", Identity.TeamRole.Editor);
        var approver = await _portal.ClientForAsync("ann", Identity.TeamRole.Approver);
        var viewer = await _portal.ClientForAsync("vic", Identity.TeamRole.Viewer);
        (await _admin.PutAsJsonAsync("/api/v1/models/points/policy", new { requireTwoPeople = true })).EnsureSuccessStatusCode();

        await HttpAssert.ProblemAsync(await viewer.PostAsJsonAsync("/api/v1/models/points/versions/1/promotion-requests", new { note = "please" }), 403, "");
        // Under two people, a direct move to Production is refused even for an Approver.
        await HttpAssert.ProblemAsync(await approver.PostAsJsonAsync("/api/v1/models/points/versions/1/stage", new { stage = "Production" }), 409, "requires two people");

        var created = await approver.PostAsJsonAsync("/api/v1/models/points/versions/1/promotion-requests", new { note = "ship it" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        await HttpAssert.ProblemAsync(await approver.PostAsJsonAsync("/api/v1/models/points/versions/1/promotion-requests", new { note = "again" }), 409, "already has an open promotion request");
        await HttpAssert.ProblemAsync(await approver.PostAsJsonAsync($"/api/v1/models/points/promotion-requests/{id}/approve", new { note = "mine" }), 403, "ann asked for promotion request");
        await HttpAssert.ProblemAsync(await editor.PostAsJsonAsync($"/api/v1/models/points/promotion-requests/{id}/approve", new { note = "x" }), 403, "");
        Assert.Equal("None", await StageOfAsync(1));

        var bob = await _portal.ClientForAsync("bob", Identity.TeamRole.Approver);
        var approved = await bob.PostAsJsonAsync($"/api/v1/models/points/promotion-requests/{id}/approve", new { note = "looks good" });
        approved.EnsureSuccessStatusCode();
        var body = await approved.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Approved", body.GetProperty("status").GetString());
        Assert.Equal("bob", body.GetProperty("decidedBy").GetString());
        Assert.Equal("Production", await StageOfAsync(1));

        var events = _portal.Db(db => db.Set<Notifications.PortalEvent>().OrderBy(e => e.Id).Select(e => e.Type + " " + e.Actor).ToList());
        Assert.Equal(["promotion.requested ann", "promotion.approved bob"], events);
        var history = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/models/points/history?stage=Production");
        var interval = Assert.Single(history.EnumerateArray());
        Assert.Equal(id, interval.GetProperty("requestId").GetInt32());
        Assert.Equal("bob", interval.GetProperty("by").GetString());
    }

    [Fact]
    public async Task A_failing_gate_is_stored_with_the_request_and_blocks_its_approval()
    {
        await RegisterTwoAsync();
        (await _admin.PutAsJsonAsync("/api/v1/models/points/policy", new { gateMetric = "accuracy", gateThreshold = 1.01, requireBetterThanProduction = true })).EnsureSuccessStatusCode();
        await HttpAssert.ProblemAsync(await _admin.PutAsJsonAsync("/api/v1/models/points/policy", new { gateMetric = "auc", gateThreshold = 0.5 }), 400, "is not one of");

        var created = await _admin.PostAsJsonAsync("/api/v1/models/points/versions/2/promotion-requests", new { note = "try" });
        var request = await created.Content.ReadFromJsonAsync<JsonElement>();
        var gates = request.GetProperty("gates").EnumerateArray().ToList();
        var metric = gates.Single(g => g.GetProperty("gate").GetString() == "metric");
        Assert.False(metric.GetProperty("passed").GetBoolean());
        Assert.Equal(1.01, metric.GetProperty("reference").GetDouble());
        Assert.True(metric.GetProperty("candidate").GetDouble() <= 1.0);
        Assert.True(gates.Single(g => g.GetProperty("gate").GetString() == "better_than_production").GetProperty("passed").GetBoolean());

        var id = request.GetProperty("id").GetInt32();
        await HttpAssert.ProblemAsync(await _admin.PostAsJsonAsync($"/api/v1/models/points/promotion-requests/{id}/approve", new { note = "" }), 409, "the gate 'metric' fails");
        Assert.Equal("None", await StageOfAsync(2));

        (await _admin.PutAsJsonAsync("/api/v1/models/points/policy", new { gateMetric = "accuracy", gateThreshold = 0.0 })).EnsureSuccessStatusCode();
        (await _admin.PostAsJsonAsync($"/api/v1/models/points/promotion-requests/{id}/approve", new { note = "ok now" })).EnsureSuccessStatusCode();
        Assert.Equal("Production", await StageOfAsync(2));
    }

    [Fact]
    public async Task Rollback_restores_the_previous_Production_version_and_the_next_predict_answers_with_it()
    {
        await RegisterTwoAsync();
        await HttpAssert.ProblemAsync(await _admin.PostAsJsonAsync("/api/v1/models/points/rollback", new { reason = "nothing yet" }), 409, "no earlier Production version");
        (await _admin.PostAsJsonAsync("/api/v1/models/points/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        (await _admin.PostAsJsonAsync("/api/v1/models/points/versions/2/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        var predict = new { inputs = new[] { new object[] { 1.5, 1.2, "red" } } };
        Assert.Equal(2, (await (await _admin.PostAsJsonAsync("/api/v1/models/points/predict", predict)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());

        var editor = await _portal.ClientForAsync("ed", Identity.TeamRole.Editor);
        await HttpAssert.ProblemAsync(await editor.PostAsJsonAsync("/api/v1/models/points/rollback", new { reason = "bad" }), 403, "");
        var rolled = await _admin.PostAsJsonAsync("/api/v1/models/points/rollback", new { reason = "v2 misbehaves" });
        rolled.EnsureSuccessStatusCode();
        Assert.Equal(1, (await rolled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
        Assert.Equal("Production", await StageOfAsync(1));
        Assert.Equal("Archived", await StageOfAsync(2));
        Assert.Equal(1, (await (await _admin.PostAsJsonAsync("/api/v1/models/points/predict", predict)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());

        var audit = _portal.Db(db => db.AuditEvents.Where(a => a.Action == "model.rolled_back").Select(a => a.Actor + " " + a.Before + " " + a.After).ToList());
        Assert.Equal(["dana v2 v1"], audit);
        Assert.Contains(_portal.Db(db => db.Set<Notifications.PortalEvent>().Select(e => e.Type).ToList()), t => t == "model.rolled_back");
    }

    [Fact]
    public async Task History_answers_which_version_was_in_Production_at_a_past_instant()
    {
        await RegisterTwoAsync();
        (await _admin.PostAsJsonAsync("/api/v1/models/points/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        (await _admin.PostAsJsonAsync("/api/v1/models/points/versions/2/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        var history = (await _admin.GetFromJsonAsync<JsonElement>("/api/v1/models/points/history")).EnumerateArray().ToList();
        var first = history.Single(h => h.GetProperty("stage").GetString() == "Production" && h.GetProperty("version").GetInt32() == 1);
        var from = first.GetProperty("from").GetDateTime();
        var to = first.GetProperty("to").GetDateTime();
        Assert.True(to >= from);

        var at = from.ToUniversalTime().ToString("O");
        var then = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/models/points/history?stage=Production&at={Uri.EscapeDataString(at)}");
        Assert.Equal(1, then.GetProperty("interval").GetProperty("version").GetInt32());
        Assert.Equal("dana", then.GetProperty("interval").GetProperty("by").GetString());
        var now = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/models/points/history?at={Uri.EscapeDataString(DateTime.UtcNow.AddMinutes(1).ToString("O"))}");
        Assert.Equal(2, now.GetProperty("interval").GetProperty("version").GetInt32());
        await HttpAssert.ProblemAsync(await _admin.GetAsync("/api/v1/models/points/history?stage=Production&at=2000-01-01T00:00:00Z"), 404, "in stage Production");
    }

    [Fact]
    public async Task Aliases_move_between_versions_with_each_move_audited_and_cards_show_lineage_schema_and_description()
    {
        await RegisterTwoAsync();
        var editor = await _portal.ClientForAsync("ed", Identity.TeamRole.Editor);
        (await editor.PutAsJsonAsync("/api/v1/models/points/aliases/champion", new { version = 1 })).EnsureSuccessStatusCode();
        (await editor.PutAsJsonAsync("/api/v1/models/points/aliases/champion", new { version = 2 })).EnsureSuccessStatusCode();
        (await editor.PutAsJsonAsync("/api/v1/models/points/aliases/challenger", new { version = 1 })).EnsureSuccessStatusCode();
        await HttpAssert.ProblemAsync(await editor.PutAsJsonAsync("/api/v1/models/points/aliases/Bad%20Name", new { version = 1 }), 400, "is not allowed");
        Assert.Equal(HttpStatusCode.NoContent, (await editor.DeleteAsync("/api/v1/models/points/aliases/challenger")).StatusCode);
        var aliases = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/models/points/aliases");
        Assert.Equal(["champion v2"], aliases.EnumerateArray().Select(a => $"{a.GetProperty("alias").GetString()} v{a.GetProperty("version").GetInt32()}"));
        var audit = _portal.Db(db => db.AuditEvents.Where(a => a.Action.StartsWith("model.alias.")).OrderBy(a => a.Id).Select(a => a.Actor + " " + a.Action + " " + a.Before + "->" + a.After).ToList());
        Assert.Equal(["ed model.alias.set ->v1", "ed model.alias.set v1->v2", "ed model.alias.set ->v1", "ed model.alias.removed v1->"], audit);

        (await editor.PutAsJsonAsync("/api/v1/models/points/versions/2/description", new { description = "Trained on the b points." })).EnsureSuccessStatusCode();
        var card = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/models/points/versions/2/card");
        Assert.Equal("Trained on the b points.", card.GetProperty("description").GetString());
        Assert.Equal(["champion"], card.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(["x", "y", "colour"], card.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.Equal("points-b", card.GetProperty("dataset").GetString());
        Assert.True(card.GetProperty("evaluation").GetProperty("confusionMatrix").GetArrayLength() > 0);
    }
}
