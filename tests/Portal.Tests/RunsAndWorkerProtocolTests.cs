using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Jobs.Protocol;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Runs;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

public sealed class RunsAndWorkerProtocolTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;

    public RunsAndWorkerProtocolTests() => _http = _portal.CreateClient();

    public void Dispose() => _portal.Dispose();

    /// <summary>Whether the run's Hangfire job will still be delivered.</summary>
    private bool HasPendingJob(int runId) =>
        _portal.Services.GetRequiredService<RunQueue>().IsPending(_portal.Db(db => db.Runs.Single(r => r.Id == runId).JobId));

    [Fact]
    public async Task CreateRun_QueuesItOnThePersistentScheduler()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_http);

        var run = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal("Queued", run.GetProperty("status").GetString());
        Assert.True(HasPendingJob(runId));
    }

    [Fact]
    public async Task CreateRun_SubmittedTwiceWithOneKey_CreatesOneRunAndOneJob()
    {
        var first = await SimulatedWorker.QueueCsvRunAsync(_http, key: "form-123");
        var again = await _http.PostAsJsonAsync("/api/v1/runs", new
        {
            datasetVersionId = 1, template = "mlp", epochs = 8, batchSize = 16, learningRate = 0.01, optimizer = "adam",
            seed = 3, validationFraction = 0.2, testFraction = 0.2, idempotencyKey = "form-123",
        });
        var second = (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();

        Assert.Equal(first, second);
        Assert.Equal(1, _portal.Db(db => db.Runs.Count()));
        var store = _portal.Services.GetRequiredService<ModelOps.Jobs.Scheduling.JobsHost>().Storage.GetMonitoringApi();
        Assert.Equal(1, store.EnqueuedCount(ModelOps.Jobs.Scheduling.SlotQueues.Cpu));
    }

    [Theory]
    [InlineData("cnn", 5, "does not fit a csv dataset")]
    [InlineData("mlp", 0, "Epochs must be from 1 to 10,000")]
    [InlineData("transformer", 5, "Template 'transformer' is unknown")]
    public async Task CreateRun_InvalidRequest_Is400AndCreatesNothing(string template, int epochs, string expected)
    {
        await SimulatedWorker.QueueCsvRunAsync(_http);
        var response = await _http.PostAsJsonAsync("/api/v1/runs", new
        {
            datasetVersionId = 1, template, epochs, batchSize = 16, learningRate = 0.01, optimizer = "adam",
            seed = 3, validationFraction = 0.2, testFraction = 0.2,
        });
        await HttpAssert.ProblemAsync(response, 400, expected);
        Assert.Equal(1, _portal.Db(db => db.Runs.Count()));
    }

    [Fact]
    public async Task CreateRun_ImagesWithoutTestFilesAndNoTestSplit_Is400()
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("bands"), "name" },
            { new ByteArrayContent(TestData.IdxImages(30)), "trainImages", "images.gz" },
            { new ByteArrayContent(TestData.IdxLabels(30)), "trainLabels", "labels.gz" },
        };
        (await _http.PostAsync("/api/v1/datasets/idx", form)).EnsureSuccessStatusCode();
        var response = await _http.PostAsJsonAsync("/api/v1/runs", new
        {
            datasetVersionId = 1, template = "cnn", epochs = 1, batchSize = 8, learningRate = 0.01, optimizer = "adam",
            seed = 3, validationFraction = 0.2, testFraction = 0.0,
        });
        await HttpAssert.ProblemAsync(response, 400, "this dataset has no test files of its own");
        Assert.Equal(0, _portal.Db(db => db.Runs.Count()));
    }

    [Fact]
    public async Task CancelQueuedRun_MarksCancelledAndRemovesItsJob()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_http);
        var response = await _http.PostAsync($"/api/v1/runs/{runId}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Cancelled", (await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}")).GetProperty("status").GetString());
        Assert.False(HasPendingJob(runId));
    }

    [Fact]
    public async Task WorkerCalls_WithoutOrWithAnotherRunsToken_AreRefused()
    {
        var mine = await SimulatedWorker.QueueCsvRunAsync(_http, "mine");
        var other = await SimulatedWorker.QueueCsvRunAsync(_http, "other");
        var worker = await SimulatedWorker.BeginAsync(_portal, mine);
        await SimulatedWorker.BeginAsync(_portal, other);

        var anonymous = await _http.PostAsJsonAsync($"/api/v1/runs/{mine}/heartbeat", new Heartbeat(0.1, 1, 8, null));
        await HttpAssert.ProblemAsync(anonymous, 401, "worker token is required");
        var crossed = await worker.Http.PostAsJsonAsync($"/api/v1/runs/{other}/heartbeat", new Heartbeat(0.1, 1, 8, null));
        await HttpAssert.ProblemAsync(crossed, 403, "writes only its own run");
        var crossedLog = await worker.Http.PostAsJsonAsync($"/api/v1/runs/{other}/log-batch", new LogBatch([new MetricPoint("loss", 1)]));
        await HttpAssert.ProblemAsync(crossedLog, 403, "writes only its own run");
        var crossedExperiment = await worker.Http.PostAsJsonAsync("/api/v1/experiments", new { name = "from-a-worker" });
        await HttpAssert.ProblemAsync(crossedExperiment, 403, "writes only its own run");
        var own = await worker.Http.PostAsJsonAsync($"/api/v1/runs/{mine}/heartbeat", new Heartbeat(0.1, 1, 8, null));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task LogBatch_InvalidBatch_StoresNothingOfIt()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_http);
        var worker = await SimulatedWorker.BeginAsync(_portal, runId);
        var points = Enumerable.Range(1, 5).Select(i => new MetricPoint("loss", 1.0 / i, i, Now)).ToList();

        // Five good points and one bad one: the whole batch is refused, not the bad point alone.
        var negativeStep = points.Append(new MetricPoint("loss", 0.1, -1, Now)).ToList();
        await HttpAssert.ProblemAsync(await worker.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new LogBatch(negativeStep)), 400, "metrics[5] (loss): the step must not be negative.");
        var badKey = points.Append(new MetricPoint("../loss", 0.1, 6, Now)).ToList();
        await HttpAssert.ProblemAsync(await worker.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new LogBatch(badKey)), 400, "metrics[5]: key '../loss' is not allowed");
        var tooMany = Enumerable.Range(0, 1001).Select(i => new MetricPoint("loss", 1, i, Now)).ToList();
        await HttpAssert.ProblemAsync(await worker.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new LogBatch(tooMany)), 400, "at most 1000 metrics");

        Assert.Equal(0, _portal.Db(db => db.Database.SqlQueryRaw<long>("SELECT COUNT(*) AS Value FROM metric_points").Single()));
        var good = await worker.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new LogBatch(points));
        Assert.Equal(HttpStatusCode.NoContent, good.StatusCode);
        Assert.Equal(5, _portal.Db(db => db.Database.SqlQuery<long>($"SELECT COUNT(*) AS Value FROM metric_points WHERE RunId = {runId}").Single()));
    }

    [Fact]
    public async Task Heartbeat_AfterCancelOfARunningRun_TellsTheWorkerToStop()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_http);
        var worker = await SimulatedWorker.BeginAsync(_portal, runId);
        var before = await (await worker.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/heartbeat", new Heartbeat(0.2, 1, 8, "epoch 1"))).Content.ReadFromJsonAsync<HeartbeatReply>();
        Assert.False(before!.CancelRequested);

        await _http.PostAsync($"/api/v1/runs/{runId}/cancel", null);
        var after = await (await worker.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/heartbeat", new Heartbeat(0.3, 1, 8, "epoch 1"))).Content.ReadFromJsonAsync<HeartbeatReply>();
        Assert.True(after!.CancelRequested);
        (await worker.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/finish", new FinishReport(FinishStatus.Cancelled, "Cancelled by request.", null))).EnsureSuccessStatusCode();
        Assert.Equal("Cancelled", (await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task FullAttempt_OverTheProtocol_FinishesWithEvaluationAndCurves()
    {
        var runId = await SimulatedWorker.QueueCsvRunAsync(_http);
        var worker = await SimulatedWorker.BeginAsync(_portal, runId);
        using var work = new TempFolder();

        await worker.TrainAndFinishAsync(work.Path);

        var run = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal("Finished", run.GetProperty("status").GetString());
        Assert.True(run.GetProperty("testAccuracy").GetDouble() > 0.9, run.ToString());
        var evaluation = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/evaluation");
        Assert.Equal(2, evaluation.GetProperty("confusionMatrix").GetArrayLength());
        var curve = (await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/metrics/history?key=val_accuracy")).GetProperty("points");
        Assert.Equal(Enumerable.Range(1, 8), curve.EnumerateArray().Select(p => (int)p.GetProperty("step").GetInt64()));
        // The attempt is over: its token no longer writes anything.
        var late = await worker.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/heartbeat", new Heartbeat(1, 8, 8, null));
        Assert.Equal(HttpStatusCode.Forbidden, late.StatusCode);
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
