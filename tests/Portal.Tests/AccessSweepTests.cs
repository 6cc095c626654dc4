using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelOps.Portal.Identity;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// Every route the OpenAPI document lists, called for real: without credentials each answers 401; with
/// a token of another team (an Admin there) each route that names a resource of the default team
/// answers 404, as if the resource did not exist; and a Viewer of the owning team is refused every write.
/// </summary>
public sealed class AccessSweepTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly TempFolder _work = new();

    public void Dispose()
    {
        _portal.Dispose();
        _work.Dispose();
    }

    [Fact]
    public async Task Every_route_needs_an_identity_and_another_teams_resources_answer_404()
    {
        var admin = _portal.CreateClient();
        // One of each resource, in the default team: a dataset, an experiment, a finished run, a model, a schedule.
        var runId = await SimulatedWorker.QueueCsvRunAsync(admin, "sweep");
        var worker = await SimulatedWorker.BeginAsync(_portal, runId);
        await worker.TrainAndFinishAsync(Directory.CreateDirectory(Path.Combine(_work.Path, "run")).FullName);
        (await admin.PostAsJsonAsync("/api/v1/models/sweep-model/versions", new { runId })).EnsureSuccessStatusCode();
        var run = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        var datasetId = _portal.Db(db => db.Datasets.Single(d => d.Name == "sweep").Id);
        var experiment = (await (await admin.PostAsJsonAsync("/api/v1/experiments", new { name = "sweep-exp" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var schedule = await admin.PostAsJsonAsync("/api/v1/schedules", new
        {
            name = "sweep-schedule", dataset = "sweep", targetModel = "sweep-model", timeZone = "UTC", cron = "0 3 * * *", onNewDatasetVersion = false, gateMode = "register",
            options = new { template = "mlp", epochs = 2, batchSize = 16, learningRate = 0.01, optimizer = "adam", seed = 3, validationFraction = 0.2, testFraction = 0.2 },
        });
        Assert.True(schedule.IsSuccessStatusCode, await schedule.Content.ReadAsStringAsync());
        var scheduleId = (await schedule.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var values = new Dictionary<string, string>
        {
            ["id"] = runId.ToString(), ["experimentId"] = experiment.ToString(), ["name"] = "sweep-model", ["version"] = "1",
            ["index"] = "0", ["path"] = "notes.txt", ["column"] = "x", ["userName"] = PortalFactory.AdminName, ["userId"] = "1",
        };
        string Fill(string route, string resource)
        {
            var id = resource switch
            {
                "datasets" => datasetId.ToString(),
                "experiments" => experiment.ToString(),
                "schedules" => scheduleId.ToString(),
                "teams" => Team.DefaultId.ToString(),
                "users" => "1",
                _ => runId.ToString(),
            };
            return Regex.Replace(route, @"\{\*?\*?(\w+)[^}]*\}", m => m.Groups[1].Value == "id" ? id : values.GetValueOrDefault(m.Groups[1].Value, "1"));
        }

        var document = await admin.GetFromJsonAsync<JsonElement>("/api/v1/openapi.json");
        var routes = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete").Select(m => (Path: p.Name, Method: m.Name.ToUpperInvariant())))
            .ToList();
        Assert.True(routes.Count > 50, $"The OpenAPI document lists {routes.Count} routes");

        var anonymous = _portal.AnonymousClient();
        var other = await _portal.TeamAsync("other-team");
        var outsider = await _portal.ClientForAsync("mallory", TeamRole.Admin, other);
        var open = new List<string>();
        var leaked = new List<string>();
        foreach (var (path, method) in routes)
        {
            var resource = path.Split('/', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) ?? "";
            var url = Fill(path, resource);
            using (var response = await anonymous.SendAsync(Request(method, url)))
                if (response.StatusCode != HttpStatusCode.Unauthorized) open.Add($"{method} {url}: {(int)response.StatusCode}");
            // Routes that name one of the default team's resources: the outsider must not learn it exists.
            if (!Regex.IsMatch(path, @"^/api/v1/(runs|experiments|datasets|models|schedules|teams)/\{")) continue;
            using (var response = await outsider.SendAsync(Request(method, url)))
                if (response.StatusCode != HttpStatusCode.NotFound) leaked.Add($"{method} {url}: {(int)response.StatusCode}");
        }
        Assert.True(open.Count == 0, "Answered without credentials:\n" + string.Join("\n", open));
        Assert.True(leaked.Count == 0, "Another team's token reached:\n" + string.Join("\n", leaked));
        Assert.Equal("Finished", run.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_viewer_reads_but_every_write_is_refused_and_an_editor_cannot_promote()
    {
        var admin = _portal.CreateClient();
        var runId = await SimulatedWorker.QueueCsvRunAsync(admin, "viewing");
        var worker = await SimulatedWorker.BeginAsync(_portal, runId);
        await worker.TrainAndFinishAsync(Directory.CreateDirectory(Path.Combine(_work.Path, "run")).FullName);
        (await admin.PostAsJsonAsync("/api/v1/models/viewing-model/versions", new { runId })).EnsureSuccessStatusCode();
        var viewer = await _portal.ClientForAsync("vic", TeamRole.Viewer);
        var editor = await _portal.ClientForAsync("eddie", TeamRole.Editor);
        var approver = await _portal.ClientForAsync("april", TeamRole.Approver);

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/v1/runs/{runId}")).StatusCode);
        Assert.Contains("viewing-model", await viewer.GetStringAsync("/api/v1/models"));
        await HttpAssert.ProblemAsync(await viewer.PostAsJsonAsync("/api/v1/experiments", new { name = "not-mine" }), 403, "Editor");
        await HttpAssert.ProblemAsync(await viewer.PostAsync($"/api/v1/runs/{runId}/cancel", null), 403, "Editor");
        await HttpAssert.ProblemAsync(await viewer.PostAsJsonAsync("/api/v1/models/viewing-model/versions/1/stage", new { stage = "Staging" }), 403, "Editor");
        await HttpAssert.ProblemAsync(await editor.PostAsJsonAsync("/api/v1/models/viewing-model/versions/1/stage", new { stage = "Production" }), 403, "Approver");
        Assert.Equal(HttpStatusCode.OK, (await editor.PostAsJsonAsync("/api/v1/models/viewing-model/versions/1/stage", new { stage = "Staging" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await approver.PostAsJsonAsync("/api/v1/models/viewing-model/versions/1/stage", new { stage = "Production" })).StatusCode);
        await HttpAssert.ProblemAsync(await editor.DeleteAsync($"/api/v1/experiments/1"), 403, "Admin");

        // Who approved is the signed-in person, in the model's history and in the audit trail.
        var versions = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/models/viewing-model")).GetProperty("versions");
        Assert.Equal("april", versions[0].GetProperty("stageChangedBy").GetString());
        Assert.Contains(_portal.Db(db => db.AuditEvents.Where(e => e.Action == "model.stage.changed").Select(e => e.Actor).ToList()), a => a == "april");
        // A read-only personal token of an Admin reads but does not write.
        var readOnly = await _portal.ClientForAsync("rhoda", TeamRole.Admin, readOnly: true);
        Assert.Equal(HttpStatusCode.OK, (await readOnly.GetAsync("/api/v1/experiments")).StatusCode);
        await HttpAssert.ProblemAsync(await readOnly.PostAsJsonAsync("/api/v1/experiments", new { name = "ro" }), 403, "Viewer");
    }

    private static HttpRequestMessage Request(string method, string url) =>
        new(new HttpMethod(method), url)
        {
            Content = method is "GET" or "DELETE" ? null : new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
        };
}
