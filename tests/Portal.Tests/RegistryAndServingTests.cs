using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

public sealed class RegistryAndServingTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;
    private readonly TempFolder _work = new();

    public RegistryAndServingTests()
    {
        // A real user of the default team, acting through a personal token: the audit trail names them.
        _http = _portal.ClientForAsync("dana", Identity.TeamRole.Admin).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _portal.Dispose();
        _work.Dispose();
    }

    private Task<int> FinishedRunAsync(string dataset) => SimulatedWorker.FinishedCsvRunAsync(_portal, _http, _work.Path, dataset);

    private async Task<JsonElement> PredictAsync(object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await _http.PostAsJsonAsync("/api/v1/models/points/predict", body);
        Assert.Equal(expected, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task RegisterPromotePredict_ServesTheProductionVersionAndSwapsWithoutRestart()
    {
        var first = await FinishedRunAsync("points-a");
        var second = await FinishedRunAsync("points-b");
        (await _http.PostAsJsonAsync("/api/v1/models/points/versions", new { runId = first })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync("/api/v1/models/points/versions", new { runId = second })).EnsureSuccessStatusCode();

        var noProduction = await _http.PostAsJsonAsync("/api/v1/models/points/predict", new { inputs = new[] { new object[] { 1.0, 1.0, "red" } } });
        await HttpAssert.ProblemAsync(noProduction, 409, "has no version in Production");

        (await _http.PostAsJsonAsync("/api/v1/models/points/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        var answer = await PredictAsync(new { inputs = new object[] { new object[] { 1.5, 1.2, "red" }, new { x = -1.5, y = -1.1, colour = "blue" } } });
        Assert.Equal(1, answer.GetProperty("version").GetInt32());
        var predictions = answer.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(["high", "low"], predictions.Select(p => p.GetProperty("label").GetString()));
        Assert.All(predictions, p => Assert.Equal(1.0, p.GetProperty("probabilities").EnumerateObject().Sum(c => c.Value.GetDouble()), 3));

        (await _http.PostAsJsonAsync("/api/v1/models/points/versions/2/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        Assert.Equal(2, (await PredictAsync(new { inputs = new[] { new object[] { 1.5, 1.2, "red" } } })).GetProperty("version").GetInt32());

        var model = await _http.GetFromJsonAsync<JsonElement>("/api/v1/models/points");
        var stages = model.GetProperty("versions").EnumerateArray().ToDictionary(v => v.GetProperty("version").GetInt32(), v => v);
        Assert.Equal("Production", stages[2].GetProperty("stage").GetString());
        Assert.Equal("Archived", stages[1].GetProperty("stage").GetString());
        Assert.Equal("dana", stages[2].GetProperty("stageChangedBy").GetString());
        var audit = _portal.Db(db => db.AuditEvents.Where(a => a.Action == "model.stage.changed").Select(a => a.Actor + " " + a.Subject + " " + a.Details).ToList());
        Assert.Contains("dana model:points:v1 Production -> Archived (replaced by v2)", audit);
    }

    [Fact]
    public async Task Predict_BadInput_Is4xxAndNamesTheProblem()
    {
        var runId = await FinishedRunAsync("points");
        (await _http.PostAsJsonAsync("/api/v1/models/points/versions", new { runId })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync("/api/v1/models/points/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();

        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/models/points/predict", new { inputs = new[] { new object[] { 1.0, 2.0 } } }),
            400, "inputs[0]: expected 3 features (x, y, colour), got 2.");
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/models/points/predict", new { inputs = new[] { new object[] { "warm", 2.0, "red" } } }),
            400, "inputs[0], feature 'x': \"warm\" is not a number.");
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/models/points/predict", new { inputs = new object[] { new { x = 1.0, y = 2.0, shade = "red" } } }),
            400, "unknown feature 'shade'");
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/models/points/predict", new { rows = 1 }),
            400, "'inputs' array");
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/models/unknown/predict", new { inputs = new[] { new object[] { 1.0, 2.0, "red" } } }),
            404, "Model 'unknown' was not found.");
    }

    [Fact]
    public async Task Register_UnfinishedRun_Is409()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_http);
        var response = await _http.PostAsJsonAsync("/api/v1/models/points/versions", new { runId });
        await HttpAssert.ProblemAsync(response, 409, "only a finished run with a model can be registered");
        Assert.Equal(0, _portal.Db(db => db.RegisteredModels.Count()));
    }

    [Fact]
    public async Task Register_SameRunTwice_Is409NamingTheVersion_UnlessAllowDuplicate()
    {
        var runId = await FinishedRunAsync("points-dup");
        (await _http.PostAsJsonAsync("/api/v1/models/points/versions", new { runId })).EnsureSuccessStatusCode();

        var again = await _http.PostAsJsonAsync("/api/v1/models/points/versions", new { runId });
        await HttpAssert.ProblemAsync(again, 409, $"Run {runId} is already version 1 of model 'points'.");
        Assert.Equal(1, _portal.Db(db => db.ModelVersions.Count()));

        var found = await _portal.InScopeAsync(sp => sp.GetRequiredService<ModelOps.Portal.Registry.RegistryService>().FindVersionForRunAsync("points", runId, default));
        Assert.Equal(1, found);
        var other = await _portal.InScopeAsync(sp => sp.GetRequiredService<ModelOps.Portal.Registry.RegistryService>().FindVersionForRunAsync("other", runId, default));
        Assert.Null(other);

        // Another model may hold the same run, and an explicit request makes a second version.
        (await _http.PostAsJsonAsync("/api/v1/models/other/versions", new { runId })).EnsureSuccessStatusCode();
        var explicitAgain = await _http.PostAsJsonAsync("/api/v1/models/points/versions", new { runId, allowDuplicate = true });
        Assert.Equal(HttpStatusCode.Created, explicitAgain.StatusCode);
        Assert.Equal(2, await _portal.InScopeAsync(sp => sp.GetRequiredService<ModelOps.Portal.Registry.RegistryService>().FindVersionForRunAsync("points", runId, default)));
    }
}
