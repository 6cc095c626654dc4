using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ModelOps.Portal.Tests.Tracking;

/// <summary>The tracking API of docs/tracking.md, over HTTP against a real SQLite file.</summary>
public sealed class TrackingApiTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;
    private readonly HttpClient _http;

    public TrackingApiTests(PortalFactory portal)
    {
        _portal = portal;
        _http = portal.CreateClient();
    }

    private static long Ms(int second) => new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero).AddSeconds(second).ToUnixTimeMilliseconds();

    private async Task<int> ExperimentAsync(string name)
    {
        var created = await _http.PostAsJsonAsync("/api/v1/experiments", new { name, description = "test", tags = new { team = "vision" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    private async Task<int> RunAsync(int experiment, object? body = null)
    {
        var created = await _http.PostAsJsonAsync($"/api/v1/experiments/{experiment}/runs", body ?? new { name = "r" });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    [Fact]
    public async Task A_tracked_run_records_params_tags_metrics_and_its_end()
    {
        var experiment = await ExperimentAsync("tracked-" + Guid.NewGuid().ToString("N")[..6]);
        var runId = await RunAsync(experiment, new { name = "lr sweep 1", @params = new { lr = 0.01, optimizer = "adam" }, tags = new { team = "vision" } });

        var batch = new
        {
            metrics = Enumerable.Range(0, 10).SelectMany(i => new object[]
            {
                new { key = "loss", value = 1.0 / (i + 1), step = i, timestamp = Ms(i) },
                new { key = "val/accuracy", value = i / 10.0, step = i, timestamp = Ms(i) },
            }).ToArray(),
            @params = new[] { new { key = "batch_size", value = (object)32 } },
            tags = new[] { new { key = "stage", value = "smoke" } },
        };
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", batch)).StatusCode);
        // The same batch again (a retry after a lost reply) adds nothing.
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", batch)).StatusCode);
        var finished = await _http.PatchAsJsonAsync($"/api/v1/runs/{runId}", new { status = "Finished", notes = "looks fine" });
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);

        var run = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal("Finished", run.GetProperty("status").GetString());
        Assert.Equal("tracked", run.GetProperty("kind").GetString());
        Assert.Equal(experiment, run.GetProperty("experimentId").GetInt32());
        Assert.Equal("0.01", run.GetProperty("params").GetProperty("lr").GetString());
        Assert.Equal("32", run.GetProperty("params").GetProperty("batch_size").GetString());
        Assert.Equal("smoke", run.GetProperty("tags").GetProperty("stage").GetString());
        Assert.Equal(0.1, run.GetProperty("metrics").GetProperty("loss").GetDouble(), 12);
        Assert.Equal(0.9, run.GetProperty("metrics").GetProperty("val/accuracy").GetDouble(), 12);
        Assert.True(run.GetProperty("endedAt").ValueKind == JsonValueKind.String);

        var history = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/metrics/history?key=loss");
        Assert.Equal(10, history.GetProperty("totalPoints").GetInt64());
        Assert.Equal(Enumerable.Range(0, 10), history.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("step").GetInt32()));
    }

    [Fact]
    public async Task Params_are_write_once_and_a_conflicting_batch_keeps_nothing()
    {
        var runId = await RunAsync(await ExperimentAsync("params-" + Guid.NewGuid().ToString("N")[..6]), new { @params = new { lr = "0.01" } });
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new { @params = new[] { new { key = "lr", value = "0.01" } } })).StatusCode);

        var conflicting = new
        {
            metrics = new[] { new { key = "loss", value = 0.5, step = 1 } },
            tags = new[] { new { key = "note", value = "x" } },
            @params = new[] { new { key = "lr", value = "0.02" } },
        };
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", conflicting), 409, "Param 'lr' of run");

        var run = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal("0.01", run.GetProperty("params").GetProperty("lr").GetString());
        Assert.False(run.GetProperty("metrics").TryGetProperty("loss", out _));
        Assert.False(run.GetProperty("tags").TryGetProperty("note", out _));
    }

    [Theory]
    [InlineData("""{"metrics":[{"key":"ok","value":1},{"key":"../x","value":1}]}""", 400, "metrics[1]: key '../x' is not allowed")]
    [InlineData("""{"metrics":[{"key":"loss","value":1,"step":-1}]}""", 400, "the step must not be negative")]
    [InlineData("""{"params":[{"key":"a","value":{"nested":1}}]}""", 400, "the value must be a string, number or boolean")]
    [InlineData("""{"params":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}""", 409, "appears twice in this batch")]
    public async Task A_bad_batch_is_refused_whole(string body, int status, string detail)
    {
        var runId = await RunAsync(await ExperimentAsync("bad-" + Guid.NewGuid().ToString("N")[..6]));
        var response = await _http.PostAsync($"/api/v1/runs/{runId}/log-batch", new StringContent(body, new MediaTypeHeaderValue("application/json")));
        await HttpAssert.ProblemAsync(response, status, detail);
        var latest = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/metrics");
        Assert.Equal(0, latest.GetArrayLength());
    }

    [Fact]
    public async Task Limits_per_batch_are_enforced()
    {
        var runId = await RunAsync(await ExperimentAsync("limits-" + Guid.NewGuid().ToString("N")[..6]));
        var metrics = Enumerable.Range(0, 1001).Select(i => new { key = "m", value = 1.0, step = i }).ToArray();
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new { metrics }), 400, "at most 1000 metrics");
        var parameters = Enumerable.Range(0, 101).Select(i => new { key = $"p{i}", value = "1" }).ToArray();
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new { @params = parameters }), 400, "at most 100 params");
    }

    [Fact]
    public async Task A_long_series_is_downsampled_keeping_its_extremes_and_stays_available_raw()
    {
        var runId = await RunAsync(await ExperimentAsync("long-" + Guid.NewGuid().ToString("N")[..6]));
        const int Steps = 5000;
        for (var start = 0; start < Steps; start += 1000)
        {
            var metrics = Enumerable.Range(start, 1000).Select(i => new { key = "loss", value = i == 3333 ? 50.0 : Math.Sin(i / 100.0), step = i, timestamp = Ms(i) }).ToArray();
            Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new { metrics })).StatusCode);
        }

        var history = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/metrics/history?key=loss&maxPoints=200");
        var points = history.GetProperty("points").EnumerateArray().ToList();
        Assert.True(history.GetProperty("downsampled").GetBoolean());
        Assert.Equal(Steps, history.GetProperty("totalPoints").GetInt64());
        Assert.Equal(200, points.Count);
        Assert.Equal(0, points[0].GetProperty("step").GetInt64());
        Assert.Equal(Steps - 1, points[^1].GetProperty("step").GetInt64());
        Assert.Contains(points, p => p.GetProperty("step").GetInt64() == 3333 && p.GetProperty("value").GetDouble() == 50.0);

        var steps = new List<long>();
        string? token = null;
        do
        {
            var page = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/metrics/raw?key=loss&pageSize=700" + (token is null ? "" : "&pageToken=" + token));
            steps.AddRange(page.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("step").GetInt64()));
            token = page.GetProperty("nextPageToken").GetString();
        }
        while (token is not null);
        Assert.Equal(Enumerable.Range(0, Steps).Select(i => (long)i), steps);
        await HttpAssert.ProblemAsync(await _http.GetAsync($"/api/v1/runs/{runId}/metrics/raw?key=loss&pageToken=bogus"), 400, "page token");
        await HttpAssert.ProblemAsync(await _http.GetAsync($"/api/v1/runs/{runId}/metrics/history?key=loss&maxPoints=1"), 400, "maxPoints");
    }

    [Fact]
    public async Task Experiments_can_be_renamed_tagged_and_deleted_softly()
    {
        var name = "exp-" + Guid.NewGuid().ToString("N")[..6];
        var id = await ExperimentAsync(name);
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/experiments", new { name }), 409, "exists already");
        var runId = await RunAsync(id);

        var patched = await (await _http.PatchAsJsonAsync($"/api/v1/experiments/{id}", new { name = name + "-b", tags = new Dictionary<string, object?> { ["team"] = null, ["owner"] = "ml" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(name + "-b", patched.GetProperty("name").GetString());
        Assert.Equal("ml", patched.GetProperty("tags").GetProperty("owner").GetString());
        Assert.False(patched.GetProperty("tags").TryGetProperty("team", out _));
        Assert.Equal(1, patched.GetProperty("runCount").GetInt32());

        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/v1/experiments/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/api/v1/experiments/{id}")).StatusCode);
        var list = await _http.GetFromJsonAsync<JsonElement>("/api/v1/experiments");
        Assert.DoesNotContain(list.EnumerateArray(), e => e.GetProperty("id").GetInt32() == id);
        // The name is free again.
        await ExperimentAsync(name + "-b");
        await HttpAssert.ProblemAsync(await _http.DeleteAsync("/api/v1/experiments/1"), 409, "Default experiment");
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/v1/runs/{runId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/api/v1/runs/{runId}")).StatusCode);
    }

    [Fact]
    public async Task Without_credentials_nothing_answers_and_only_a_live_token_gets_in()
    {
        using var portal = new PortalFactory();
        var http = portal.AnonymousClient();
        await HttpAssert.ProblemAsync(await http.GetAsync("/api/v1/experiments"), 401, "Sign in");
        // The OpenAPI document lists private routes, so it needs an identity too; the health check does not.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/openapi.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

        // A personal token, made by a signed-in user (here the Admin, with their own token).
        var created = await (await portal.CreateClient().PostAsJsonAsync("/api/v1/tokens", new { name = "ci" })).Content.ReadFromJsonAsync<JsonElement>();
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("mop_", token);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var experiment = await http.PostAsJsonAsync("/api/v1/experiments", new { name = "strict" });
        Assert.Equal(HttpStatusCode.Created, experiment.StatusCode);
        // Who created it is the token's user.
        Assert.Equal(PortalFactory.AdminName, (await experiment.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("owner").GetString());

        var tokens = await http.GetFromJsonAsync<JsonElement>("/api/v1/tokens");
        Assert.DoesNotContain(token, tokens.ToString());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/v1/tokens/{created.GetProperty("id").GetInt32()}")).StatusCode);
        await HttpAssert.ProblemAsync(await http.GetAsync("/api/v1/experiments"), 401, "revoked");

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "mop_" + new string('x', 43));
        await HttpAssert.ProblemAsync(await http.GetAsync("/api/v1/experiments"), 401, "not known");
    }

    [Fact]
    public async Task Search_filters_orders_and_pages_with_the_filter_language()
    {
        var experiment = await ExperimentAsync("search-" + Guid.NewGuid().ToString("N")[..6]);
        var ids = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            var id = await RunAsync(experiment, new { name = $"r{i}", @params = new { optimizer = i % 2 == 0 ? "adam" : "sgd", lr = 0.001 * (i + 1) }, tags = new { team = i % 3 == 0 ? "vision" : "nlp" } });
            var batch = new { metrics = new[] { new { key = "val_accuracy", value = 0.5 + i * 0.04, step = 1 } } };
            Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsJsonAsync($"/api/v1/runs/{id}/log-batch", batch)).StatusCode);
            ids.Add(id);
        }
        // val_accuracy > 0.7 holds for i >= 6; adam is even i, vision is i in {0,3,6,9}.
        const string Filter = "metrics.val_accuracy > 0.7 and (params.optimizer = 'adam' or tags.team = 'vision')";
        var expected = new[] { 10, 9, 8, 6 }.Select(i => ids[i]).ToList();

        var seen = new List<int>();
        string? token = null;
        do
        {
            var response = await _http.PostAsJsonAsync("/api/v1/runs/search", new { experimentIds = new[] { experiment }, filter = Filter, orderBy = new[] { "metrics.val_accuracy DESC" }, maxResults = 2, pageToken = token });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("search;dur=", response.Headers.GetValues("Server-Timing").Single());
            var page = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(expected.Count, page.GetProperty("total").GetInt64());
            seen.AddRange(page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetInt32()));
            token = page.GetProperty("nextPageToken").GetString();
        }
        while (token is not null);
        Assert.Equal(expected, seen);

        var viaGet = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/search?experimentIds={experiment}&filter={Uri.EscapeDataString("params.lr >= 0.011")}&orderBy=params.lr%20ASC");
        Assert.Equal(new[] { ids[10], ids[11] }, viaGet.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetInt32()));

        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/runs/search", new { filter = "metrics.val_accuracy >" }), 400, "Position 23");
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/runs/search", new { filter = "", maxResults = 5000 }), 400, "maxResults must be between 1 and 1,000");
    }

    [Fact]
    public async Task Metric_values_come_back_bit_for_bit()
    {
        var runId = await RunAsync(await ExperimentAsync("exact-" + Guid.NewGuid().ToString("N")[..6]));
        var random = new Random(3);
        var values = Enumerable.Range(0, 500).Select(i => i switch
        {
            0 => double.Epsilon, 1 => double.MaxValue, 2 => -double.MaxValue, 3 => 1e-300, 4 => 0.1 + 0.2, 5 => 0.0,
            _ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-300, 300)),
        }).ToArray();
        var metrics = values.Select((v, i) => new { key = "x", value = v, step = i }).ToArray();
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new { metrics })).StatusCode);
        var page = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/metrics/raw?key=x&pageSize=1000");
        var back = page.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("value").GetDouble()).ToArray();
        Assert.Equal(values.Select(BitConverter.DoubleToInt64Bits), back.Select(BitConverter.DoubleToInt64Bits));
    }
}
