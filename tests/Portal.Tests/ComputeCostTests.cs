using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Tests;

/// <summary>
/// Compute time and its cost (docs/cost.md): the arithmetic, and the worker protocol's heartbeats and finish
/// report adding up across attempts in the real store, with the cost in the run JSON and sortable in search.
/// </summary>
public sealed class ComputeCostTests : IDisposable
{
    private readonly PortalFactory _portal = new PortalFactory()
        .With("ModelOps:Cost:PricePerGpuHour", "3.6")
        .With("ModelOps:Cost:PricePerCpuCoreHour", "0.36")
        .With("ModelOps:Cost:Currency", "EUR");
    private readonly HttpClient _http;

    public ComputeCostTests() => _http = _portal.CreateClient();

    public void Dispose() => _portal.Dispose();

    [Fact]
    public void Cost_is_gpu_hours_times_the_gpu_price_plus_cpu_core_hours_times_the_cpu_price()
    {
        var prices = new CostOptions { PricePerGpuHour = 2.5, PricePerCpuCoreHour = 0.05 };
        Assert.Equal(2.5 + 2 * 0.05, RunCompute.Cost(3600, 7200, prices)!.Value, 12);
        Assert.Equal(0.5 / 3600 * 2.5 + 90.0 / 3600 * 0.05, RunCompute.Cost(0.5, 90, prices)!.Value, 15);
        Assert.Equal(2 * 0.05, RunCompute.Cost(3600, 7200, new CostOptions { PricePerGpuHour = 0, PricePerCpuCoreHour = 0.05 })!.Value, 12);
        // No price at all: time without a cost.
        Assert.Null(RunCompute.Cost(3600, 7200, new CostOptions { PricePerGpuHour = 0, PricePerCpuCoreHour = 0 }));
        Assert.Null(RunCompute.View(null, null, prices));
        Assert.Equal("USD", RunCompute.View(0, 1, prices)!.Currency);
    }

    [Fact]
    public void Attempts_add_up_and_a_repeated_report_replaces_its_attempts_figures()
    {
        var run = new Run { Name = "r", Template = "mlp", Optimizer = "adam", Source = "UI", CreatedBy = "t" };
        RunCompute.Record(run, 1, new ComputeUsage(0, 10));
        RunCompute.Record(run, 1, new ComputeUsage(0, 10));
        RunCompute.Record(run, 1, new ComputeUsage(2, 25));
        Assert.Equal((2.0, 25.0), (run.GpuSeconds!.Value, run.CpuCoreSeconds!.Value));
        RunCompute.Record(run, 1, new ComputeUsage(1, 20)); // an older report arriving late takes nothing away
        Assert.Equal((2.0, 25.0), (run.GpuSeconds!.Value, run.CpuCoreSeconds!.Value));
        RunCompute.Record(run, 2, new ComputeUsage(3, 4));
        RunCompute.Record(run, 2, new ComputeUsage(3, 5));
        Assert.Equal((5.0, 30.0), (run.GpuSeconds!.Value, run.CpuCoreSeconds!.Value));
        RunCompute.Record(run, 2, null); // a worker that reports nothing changes nothing
        RunCompute.Record(run, 3, new ComputeUsage(double.NaN, -7)); // nor does nonsense
        Assert.Equal((5.0, 30.0), (run.GpuSeconds!.Value, run.CpuCoreSeconds!.Value));
    }

    private static Task<HttpResponseMessage> Beat(SimulatedWorker worker, double gpu, double cpu) =>
        worker.Http.PostAsJsonAsync($"/api/v1/runs/{worker.RunId}/heartbeat", new Heartbeat(0.5, 1, 8, "epoch 1", new ComputeUsage(gpu, cpu)));

    private (double? Gpu, double? Cpu) Stored(int runId) =>
        _portal.Db(db => db.Runs.Where(r => r.Id == runId).Select(r => new { r.GpuSeconds, r.CpuCoreSeconds }).AsEnumerable()
            .Select(r => (r.GpuSeconds, r.CpuCoreSeconds)).Single());

    [Fact]
    public async Task Heartbeats_and_the_finish_report_accumulate_compute_across_two_attempts_without_double_counting()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_http);
        Assert.Equal((null, null), Stored(runId));
        var queued = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal(JsonValueKind.Null, queued.GetProperty("compute").ValueKind);

        // Attempt 1 reports cumulative figures, once twice over (a retried heartbeat), then is killed: no finish.
        var first = await SimulatedWorker.BeginAsync(_portal, runId);
        (await Beat(first, 0, 10)).EnsureSuccessStatusCode();
        (await Beat(first, 0, 10)).EnsureSuccessStatusCode();
        (await Beat(first, 20, 30)).EnsureSuccessStatusCode();
        Assert.Equal((20.0, 30.0), Stored(runId));

        // The portal restarts: the run is requeued and attempt 2 resumes it.
        await _portal.InScopeAsync(sp => sp.GetRequiredService<RunLifecycle>().RecoverAfterRestartAsync(CancellationToken.None));
        var second = await SimulatedWorker.BeginAsync(_portal, runId);
        // Attempt 1's token is dead: its late heartbeat is refused and adds nothing.
        Assert.Equal(HttpStatusCode.Forbidden, (await Beat(first, 99, 99)).StatusCode);
        (await Beat(second, 5, 4)).EnsureSuccessStatusCode();
        (await Beat(second, 5, 4)).EnsureSuccessStatusCode();
        Assert.Equal((25.0, 34.0), Stored(runId));
        (await second.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/finish",
            new FinishReport(FinishStatus.Failed, "stopped for the test", null, Compute: new ComputeUsage(6, 10)))).EnsureSuccessStatusCode();
        Assert.Equal((26.0, 40.0), Stored(runId));
        // A repeated finish report (a lost reply) is refused: the token died with the attempt.
        var again = await second.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/finish",
            new FinishReport(FinishStatus.Failed, "stopped for the test", null, Compute: new ComputeUsage(6, 10)));
        Assert.Equal(HttpStatusCode.Forbidden, again.StatusCode);
        Assert.Equal((26.0, 40.0), Stored(runId));

        var json = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        var compute = json.GetProperty("compute");
        Assert.Equal(26, compute.GetProperty("gpuSeconds").GetDouble(), 9);
        Assert.Equal(40, compute.GetProperty("cpuCoreSeconds").GetDouble(), 9);
        Assert.Equal(26.0 / 3600 * 3.6 + 40.0 / 3600 * 0.36, compute.GetProperty("cost").GetDouble(), 12);
        Assert.Equal("EUR", compute.GetProperty("currency").GetString());
    }

    [Fact]
    public async Task Search_sorts_and_filters_on_the_cost_in_sql_with_unmeasured_runs_last()
    {
        var cheap = await SimulatedWorker.QueueCsvRunAsync(_http, "a");
        var dear = await SimulatedWorker.QueueCsvRunAsync(_http, "b");
        var unmeasured = await SimulatedWorker.QueueCsvRunAsync(_http, "c");
        // A GPU-second costs ten CPU core-seconds here: 1 GPU-second beats 5 CPU core-seconds.
        (await Beat(await SimulatedWorker.BeginAsync(_portal, cheap), 0, 5)).EnsureSuccessStatusCode();
        (await Beat(await SimulatedWorker.BeginAsync(_portal, dear), 1, 0)).EnsureSuccessStatusCode();

        async Task<List<int>> Ids(string query)
        {
            var page = await _http.GetFromJsonAsync<JsonElement>("/api/v1/runs/search?" + query);
            return page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetInt32()).ToList();
        }
        Assert.Equal([dear, cheap, unmeasured], await Ids("orderBy=attributes.cost%20DESC"));
        Assert.Equal([cheap, dear, unmeasured], await Ids("orderBy=attributes.cost%20ASC"));
        // Paged one run at a time, the keyset cursor carries the cost expression.
        var first = await _http.GetFromJsonAsync<JsonElement>("/api/v1/runs/search?orderBy=attributes.cost%20DESC&maxResults=1");
        var token = Uri.EscapeDataString(first.GetProperty("nextPageToken").GetString()!);
        Assert.Equal([cheap], await Ids($"orderBy=attributes.cost%20DESC&maxResults=1&pageToken={token}"));
        // 1 GPU-second at 3.6 per hour is 0.001.
        Assert.Equal([dear], await Ids("filter=attributes.cost%20%3E%200.0009"));
        Assert.Equal([dear], await Ids("filter=attributes.gpu_seconds%20%3E%3D%201"));
        Assert.Equal([unmeasured], await Ids("filter=attributes.cpu_core_seconds%20is%20null"));
    }
}
