using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Jobs;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Tests;

/// <summary>
/// The Jobs page lists what the portal schedules, not the runs API clients report; a client's run
/// cannot be cancelled (no worker would ever stop) but can be ended from the portal.
/// </summary>
public sealed class JobQueueAndClientRunTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;

    public JobQueueAndClientRunTests()
    {
        // A real user of the default team, acting through a personal token: the audit trail names them.
        _http = _portal.ClientForAsync("dana", Identity.TeamRole.Admin).GetAwaiter().GetResult();
    }

    public void Dispose() => _portal.Dispose();

    private async Task<int> ClientRunAsync(string name = "notebook")
    {
        var response = await _http.PostAsJsonAsync("/api/v1/experiments/1/runs", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    [Fact]
    public async Task JobQueue_ListsScheduledRunsOnly_WithTheWorkerSlots()
    {
        var client = await ClientRunAsync();
        var scheduled = await SimulatedWorker.QueueCsvRunAsync(_http);

        var queue = await _portal.Services.GetRequiredService<JobQueueQuery>().ListAsync();

        Assert.Equal([scheduled], queue.Jobs.Select(j => j.Id));
        Assert.DoesNotContain(queue.Jobs, j => j.Id == client);
        Assert.Equal(RunStatus.Queued, queue.Jobs[0].Status);
        Assert.Equal(1, queue.WorkerSlots);
        Assert.Equal((0, 1, 1), (queue.Running, queue.Queued, queue.FreeSlots));
    }

    [Fact]
    public async Task CancelOnAClientRun_Is409SayingToEndIt_AndLeavesItRunning()
    {
        var client = await ClientRunAsync();
        var response = await _http.PostAsync($"/api/v1/runs/{client}/cancel", null);
        await HttpAssert.ProblemAsync(response, 409, "end it instead");
        var run = _portal.Db(db => db.Runs.Single(r => r.Id == client));
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.False(run.CancelRequested);
    }

    [Fact]
    public async Task EndingAClientRun_SetsATerminalStateAndEndTime_AtOnce()
    {
        var client = await ClientRunAsync();
        var response = await _http.PostAsJsonAsync($"/api/v1/runs/{client}/end", new { status = "killed" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Cancelled", body.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, body.GetProperty("endedAt").ValueKind);
        var run = _portal.Db(db => db.Runs.Single(r => r.Id == client));
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.NotNull(run.EndedAt);
        Assert.Contains("killed", run.StatusMessage);
        Assert.Contains(_portal.Db(db => db.AuditEvents.Select(a => a.Action + " " + a.Subject + " " + a.Actor).ToList()), a => a == $"run.ended run:{client} dana");

        // Ending it again the same way is a no-op; another way is a conflict.
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsJsonAsync($"/api/v1/runs/{client}/end", new { status = "killed" })).StatusCode);
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync($"/api/v1/runs/{client}/end", new { status = "finished" }), 409, "has already ended");
    }

    [Fact]
    public async Task EndAsync_Finished_CompletesTheRun()
    {
        var client = await ClientRunAsync();
        var run = await _portal.InScopeAsync(sp => sp.GetRequiredService<ClientRunService>().EndAsync(client, "finished"));
        Assert.Equal(RunStatus.Finished, run.Status);
        Assert.Equal(1, run.Progress);
        Assert.NotNull(run.EndedAt);
    }

    [Fact]
    public async Task End_RefusesABadStatus_AndAScheduledRun()
    {
        var client = await ClientRunAsync();
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync($"/api/v1/runs/{client}/end", new { status = "paused" }), 400, "use 'killed' or 'finished'");
        var scheduled = await SimulatedWorker.QueueCsvRunAsync(_http);
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync($"/api/v1/runs/{scheduled}/end", new { status = "killed" }), 409, "cancel it instead");
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/runs/98765/end", new { status = "killed" }), 404, "Run 98765 was not found.");
    }
}
