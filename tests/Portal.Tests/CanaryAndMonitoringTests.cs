using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Serving;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// Canary and shadow routing, the per-minute figures and drift, over real HTTP against models trained
/// by the Engine. The flusher's timer is set to an hour: each test flushes when it wants to look.
/// </summary>
public sealed class CanaryAndMonitoringTests : IDisposable
{
    private readonly PortalFactory _portal = new PortalFactory().With("ModelOps:Serving:FlushMilliseconds", "3600000");
    private readonly HttpClient _http;
    private readonly TempFolder _work = new();

    public CanaryAndMonitoringTests() =>
        _http = _portal.ClientForAsync("dana", Identity.TeamRole.Admin).GetAwaiter().GetResult();

    public void Dispose()
    {
        _portal.Dispose();
        _work.Dispose();
    }

    /// <summary>Two versions of "points" from two trained runs: v1 in Production, v2 in Staging.</summary>
    private async Task TwoVersionsAsync()
    {
        foreach (var dataset in new[] { "points-a", "points-b" })
        {
            var runId = await SimulatedWorker.FinishedCsvRunAsync(_portal, _http, _work.Path, dataset);
            (await _http.PostAsJsonAsync("/api/v1/models/points/versions", new { runId })).EnsureSuccessStatusCode();
        }
        (await _http.PostAsJsonAsync("/api/v1/models/points/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync("/api/v1/models/points/versions/2/stage", new { stage = "Staging" })).EnsureSuccessStatusCode();
    }

    private async Task<(JsonElement Body, string? Header)> PredictAsync(object inputs, string? caller = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/models/points/predict") { Content = JsonContent.Create(new { inputs }) };
        if (caller is not null) request.Headers.Add(PredictionService.CallerHeader, caller);
        var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var header = response.Headers.TryGetValues(PredictionService.VersionHeader, out var values) ? values.Single() : null;
        return (await response.Content.ReadFromJsonAsync<JsonElement>(), header);
    }

    private static readonly object[][] OneRow = [[1.5, 1.2, "red"]];

    private Task FlushAsync() => _portal.Services.GetRequiredService<ServingMonitor>().FlushAsync(CancellationToken.None);

    [Fact]
    public async Task Canary_at_20_percent_takes_about_a_fifth_of_distinct_callers_and_keeps_each_caller_on_its_version()
    {
        await TwoVersionsAsync();
        var before = await PredictAsync(OneRow, "caller-0");
        Assert.Equal(1, before.Body.GetProperty("version").GetInt32());
        Assert.Equal("production", before.Body.GetProperty("role").GetString());

        (await _http.PutAsJsonAsync("/api/v1/models/points/canary", new { version = 2, percent = 20 })).EnsureSuccessStatusCode();

        var byCaller = new Dictionary<string, int>();
        for (var i = 0; i < 300; i++)
        {
            var (body, header) = await PredictAsync(OneRow, $"caller-{i}");
            var version = body.GetProperty("version").GetInt32();
            Assert.Equal(version.ToString(CultureInfo.InvariantCulture), header);
            Assert.Equal(version == 2 ? "canary" : "production", body.GetProperty("role").GetString());
            Assert.Equal(version == 2 ? "Staging" : "Production", body.GetProperty("stage").GetString());
            byCaller[$"caller-{i}"] = version;
        }
        var share = byCaller.Values.Count(v => v == 2) / 300.0;
        Assert.InRange(share, 0.12, 0.28);
        foreach (var caller in byCaller.Keys.Take(20))
            Assert.Equal(byCaller[caller], (await PredictAsync(OneRow, caller)).Body.GetProperty("version").GetInt32());

        // Dropped: Production answers everyone again.
        (await _http.DeleteAsync("/api/v1/models/points/canary")).EnsureSuccessStatusCode();
        foreach (var caller in byCaller.Where(p => p.Value == 2).Select(p => p.Key).Take(10))
            Assert.Equal(1, (await PredictAsync(OneRow, caller)).Body.GetProperty("version").GetInt32());

        // Promoted: the canary becomes Production and the canary is cleared.
        (await _http.PutAsJsonAsync("/api/v1/models/points/canary", new { version = 2, percent = 50 })).EnsureSuccessStatusCode();
        var promoted = await _http.PostAsync("/api/v1/models/points/canary/promote", null);
        promoted.EnsureSuccessStatusCode();
        var serving = await promoted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, serving.GetProperty("productionVersion").GetInt32());
        Assert.Equal(JsonValueKind.Null, serving.GetProperty("canaryVersion").ValueKind);
        Assert.Equal(2, (await PredictAsync(OneRow, "caller-0")).Body.GetProperty("version").GetInt32());
        var audit = _portal.Db(db => db.AuditEvents.Where(a => a.Subject.StartsWith("model:points")).Select(a => a.Action + " " + a.Details).ToList());
        Assert.Contains("model.canary.set v2 takes 20% of the traffic", audit);
        Assert.Contains("model.canary.dropped Production answers all traffic", audit);
        Assert.Contains("model.canary.promoted v2 promoted to Production", audit);
        Assert.Contains(audit, a => a.StartsWith("model.stage.changed Staging -> Production: canary promoted"));
    }

    [Fact]
    public async Task Without_a_canary_every_caller_gets_Production_and_random_callers_split_without_a_key()
    {
        await TwoVersionsAsync();
        for (var i = 0; i < 50; i++)
            Assert.Equal(1, (await PredictAsync(OneRow, $"k{i}")).Body.GetProperty("version").GetInt32());
        (await _http.PutAsJsonAsync("/api/v1/models/points/canary", new { version = 2, percent = 50 })).EnsureSuccessStatusCode();
        var versions = new HashSet<int>();
        for (var i = 0; i < 60 && versions.Count < 2; i++)
            versions.Add((await PredictAsync(OneRow)).Body.GetProperty("version").GetInt32());
        Assert.Equal([1, 2], versions.Order());
    }

    [Fact]
    public async Task Canary_refuses_a_version_that_is_not_Staging_a_bad_percent_and_an_Editor()
    {
        await TwoVersionsAsync();
        await HttpAssert.ProblemAsync(await _http.PutAsJsonAsync("/api/v1/models/points/canary", new { version = 1, percent = 20 }), 409, "only a Staging version can be a canary");
        await HttpAssert.ProblemAsync(await _http.PutAsJsonAsync("/api/v1/models/points/canary", new { version = 2, percent = 100 }), 400, "1 to 99 percent");
        await HttpAssert.ProblemAsync(await _http.PostAsync("/api/v1/models/points/canary/promote", null), 409, "has no canary to promote");
        var editor = await _portal.ClientForAsync("eddie", Identity.TeamRole.Editor);
        Assert.Equal(HttpStatusCode.Forbidden, (await editor.PutAsJsonAsync("/api/v1/models/points/canary", new { version = 2, percent = 20 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await editor.PutAsJsonAsync("/api/v1/models/points/shadow", new { version = 2 })).StatusCode);
    }

    [Fact]
    public async Task Shadow_agreement_and_per_minute_figures_are_written_and_queried_and_bad_input_counts_as_an_error_only()
    {
        await TwoVersionsAsync();
        (await _http.PutAsJsonAsync("/api/v1/models/points/shadow", new { version = 2 })).EnsureSuccessStatusCode();
        for (var i = 0; i < 12; i++)
            Assert.Equal(1, (await PredictAsync(new object[][] { [1.5, 1.2, "red"], [-1.6, -1.1, "blue"] })).Body.GetProperty("version").GetInt32());
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/models/points/predict", new { inputs = new[] { new object[] { "warm", 2.0, "red" } } }),
            400, "is not a number");
        await _portal.Services.GetRequiredService<ShadowRunner>().DrainAsync(CancellationToken.None);
        await FlushAsync();

        var rows = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/models/points/monitoring?from={DateTime.UtcNow.AddHours(-1):O}");
        var byVersion = rows.EnumerateArray().GroupBy(r => r.GetProperty("version").GetInt32()).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(13, byVersion[1].Sum(r => r.GetProperty("requests").GetInt64()));
        Assert.Equal(1, byVersion[1].Sum(r => r.GetProperty("errors").GetInt64()));
        Assert.All(byVersion[1], r => Assert.True(r.GetProperty("p99Ms").GetDouble() >= r.GetProperty("p50Ms").GetDouble()));
        Assert.Equal("production", byVersion[1][0].GetProperty("role").GetString());
        Assert.Equal(24, byVersion[2].Sum(r => r.GetProperty("shadowCompared").GetInt64()));
        Assert.InRange(byVersion[2].Sum(r => r.GetProperty("shadowAgreed").GetInt64()), 20, 24);
        Assert.Equal(0, byVersion[2].Sum(r => r.GetProperty("requests").GetInt64()));

        // The Review page's query reads the same rows by model id.
        var modelId = _portal.Db(db => db.RegisteredModels.Single(m => m.Name == "points").Id);
        var queried = await _portal.Services.GetRequiredService<ServingMetrics>().QueryAsync(modelId, DateTime.UtcNow.AddHours(-1), null, CancellationToken.None);
        Assert.Equal(13, queried.Where(q => q.Version == 1).Sum(q => q.Requests));

        // A second flush in the same minute replaces the minute's row, it does not add one.
        await PredictAsync(OneRow);
        await FlushAsync();
        Assert.Equal(14, _portal.Db(db => db.Set<ServingMinute>().Where(m => m.ModelVersionId == db.ModelVersions.Single(v => v.Version == 1).Id).Sum(m => m.Requests)));
    }

    [Fact]
    public async Task Rows_older_than_the_retention_are_deleted_by_the_flush()
    {
        await TwoVersionsAsync();
        _portal.Db(db =>
        {
            var id = db.ModelVersions.Single(v => v.Version == 1).Id;
            db.Set<ServingMinute>().Add(new ServingMinute { ModelVersionId = id, Minute = DateTime.UtcNow.AddDays(-31), Role = "production", Requests = 5 });
            db.Set<ServingMinute>().Add(new ServingMinute { ModelVersionId = id, Minute = DateTime.UtcNow.AddDays(-29), Role = "production", Requests = 7 });
            return db.SaveChanges();
        });
        await FlushAsync();
        Assert.Equal([7L], _portal.Db(db => db.Set<ServingMinute>().Select(m => m.Requests).ToList()));
    }

    private static object[][] Rows(int count, int seed, double shiftX = 0, string? colour = null) =>
        TestData.SeparableCsv(count, seed).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(line => line.Split(','))
            .Select(c => new object[] { double.Parse(c[0], CultureInfo.InvariantCulture) + shiftX, double.Parse(c[1], CultureInfo.InvariantCulture), colour ?? c[2] })
            .ToArray();

    private int DriftEvents() => _portal.Db(db => db.Set<Notifications.PortalEvent>().Count(e => e.Type == Notifications.EventTypes.DriftOverThreshold));

    [Fact]
    public async Task Drift_stays_green_on_data_like_the_training_data_and_turns_red_once_on_shifted_data()
    {
        await TwoVersionsAsync();
        (await _http.PutAsJsonAsync("/api/v1/models/points/monitoring", new { driftThreshold = 0.2, window = 300 })).EnsureSuccessStatusCode();

        await PredictAsync(Rows(300, seed: 99));
        await FlushAsync();
        var green = await _http.GetFromJsonAsync<JsonElement>("/api/v1/models/points/drift");
        var current = green.GetProperty("current").EnumerateArray().ToList();
        Assert.Equal(["(predicted class)", "colour", "x", "y"], current.Select(c => c.GetProperty("feature").GetString()).Order());
        Assert.All(current, c => Assert.False(c.GetProperty("red").GetBoolean(), c.ToString()));
        Assert.Equal(0, DriftEvents());
        Assert.NotEmpty(green.GetProperty("classes").EnumerateArray());

        await PredictAsync(Rows(300, seed: 5, shiftX: 5, colour: "blue"));
        await FlushAsync();
        var red = await _http.GetFromJsonAsync<JsonElement>("/api/v1/models/points/drift");
        var now = red.GetProperty("current").EnumerateArray().ToDictionary(c => c.GetProperty("feature").GetString()!, c => c.GetProperty("red").GetBoolean());
        Assert.True(now["x"]);
        Assert.True(now["colour"]);
        Assert.False(now["y"]);
        var events = DriftEvents();
        Assert.True(events >= 2, $"{events} drift events");
        var data = _portal.Db(db => db.Set<Notifications.PortalEvent>().Where(e => e.Type == Notifications.EventTypes.DriftOverThreshold).Select(e => e.Subject + " " + e.Data).ToList());
        Assert.Contains(data, d => d.StartsWith("model:points:v1 ") && d.Contains("\"feature\":\"x\"") && d.Contains("\"threshold\":0.2"));
        Assert.Contains(_portal.Db(db => db.AuditEvents.Select(a => a.Action).ToList()), a => a == "model.drift.over_threshold");

        // Still shifted: red stays red, and no second event for the same crossing.
        await PredictAsync(Rows(300, seed: 6, shiftX: 5, colour: "blue"));
        await FlushAsync();
        Assert.Equal(events, DriftEvents());
    }

    [Fact]
    public async Task A_canary_whose_version_leaves_Staging_takes_no_more_traffic()
    {
        await TwoVersionsAsync();
        (await _http.PutAsJsonAsync("/api/v1/models/points/canary", new { version = 2, percent = 99 })).EnsureSuccessStatusCode();
        Assert.Contains(2, await Task.WhenAll(Enumerable.Range(0, 10).Select(async i => (await PredictAsync(OneRow, $"c{i}")).Body.GetProperty("version").GetInt32())));
        (await _http.PostAsJsonAsync("/api/v1/models/points/versions/2/stage", new { stage = "Archived" })).EnsureSuccessStatusCode();
        for (var i = 0; i < 10; i++)
            Assert.Equal(1, (await PredictAsync(OneRow, $"c{i}")).Body.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task A_full_shadow_queue_drops_the_copy_and_counts_it_without_waiting()
    {
        await TwoVersionsAsync();
        var services = _portal.Services;
        // A runner that is never started: nothing reads its one-slot queue.
        var runner = new ShadowRunner(services.GetRequiredService<PredictorCache>(), new ServingMeters(TimeProvider.System),
            Microsoft.Extensions.Options.Options.Create(new ServingOptions { ShadowQueue = 1 }), Microsoft.Extensions.Logging.Abstractions.NullLogger<ShadowRunner>.Instance);
        var shadow = new DeployedVersion(_portal.Db(db => db.ModelVersions.Single(v => v.Version == 2).Id), 2, _portal.Db(db => db.ModelVersions.Single(v => v.Version == 2).ArtifactPath), 0, "Staging");
        var inputs = new[] { JsonDocument.Parse("[1.5, 1.2, \"red\"]").RootElement };
        var answered = new[] { new ModelOps.Engine.Models.Prediction("high", 0, new Dictionary<string, double>()) };
        runner.Offer(shadow, inputs, answered);
        runner.Offer(shadow, inputs, answered);
        runner.Offer(shadow, inputs, answered);
        Assert.Equal(2, runner.Dropped);
        await runner.DrainAsync(CancellationToken.None);
    }
}
