using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Engine.Training;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Runs;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// Plays the worker's part over the real REST protocol against the in-process portal: the attempt
/// is begun as the scheduler would begin it, then the data is fetched, a real model is trained with
/// the Engine, and the results are reported.
/// </summary>
public sealed class SimulatedWorker
{
    private readonly PortalFactory _portal;

    public SimulatedWorker(PortalFactory portal, int runId, string token)
    {
        _portal = portal;
        RunId = runId;
        Token = token;
        Http = portal.CreateClient();
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public int RunId { get; }
    public string Token { get; }
    public HttpClient Http { get; }

    public static async Task<SimulatedWorker> BeginAsync(PortalFactory portal, int runId)
    {
        var launch = await portal.InScopeAsync(sp => sp.GetRequiredService<RunLifecycle>().BeginAttemptAsync(runId, CancellationToken.None));
        Assert.NotNull(launch);
        return new SimulatedWorker(portal, runId, launch!.Token);
    }

    /// <summary>
    /// Uploads a CSV dataset, queues an MLP run on it and trains it to Finished with a model, as a worker
    /// would, working in a folder of its own under <paramref name="workRoot"/>; returns the run id.
    /// </summary>
    public static async Task<int> FinishedCsvRunAsync(PortalFactory portal, HttpClient http, string workRoot, string dataset = "points")
    {
        var runId = await QueueCsvRunAsync(http, dataset);
        var worker = await BeginAsync(portal, runId);
        await worker.TrainAndFinishAsync(Directory.CreateDirectory(Path.Combine(workRoot, runId.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName);
        return runId;
    }

    /// <summary>Uploads a CSV dataset and queues an MLP run on it; returns the run id.</summary>
    public static async Task<int> QueueCsvRunAsync(HttpClient http, string dataset = "points", int rows = 300, string? key = null)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(dataset), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(TestData.SeparableCsv(rows))), "file", "points.csv" },
        };
        var uploaded = await http.PostAsync("/api/v1/datasets/csv", form);
        uploaded.EnsureSuccessStatusCode();
        var version = (await uploaded.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetInt32();
        var created = await http.PostAsJsonAsync("/api/v1/runs", new
        {
            datasetVersionId = version, template = "mlp", epochs = 8, batchSize = 16, learningRate = 0.01, optimizer = "adam",
            seed = 3, validationFraction = 0.2, testFraction = 0.2, idempotencyKey = key,
        });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetInt32();
    }

    /// <summary>The whole attempt: spec, data, start, train with per-epoch metrics, model, finish.</summary>
    public async Task TrainAndFinishAsync(string workDir)
    {
        var spec = (await Http.GetFromJsonAsync<RunSpec>($"/api/v1/runs/{RunId}/spec"))!;
        var csv = Path.Combine(workDir, "data.csv");
        await File.WriteAllBytesAsync(csv, await Http.GetByteArrayAsync($"/api/v1/datasets/{spec.Dataset.DatasetId}/versions/{spec.Dataset.Version}/files/data.csv"));
        (await Http.PostAsJsonAsync($"/api/v1/runs/{RunId}/start", new StartReport(spec.Attempt, Environment.ProcessId, "cpu"))).EnsureSuccessStatusCode();

        var observer = new CollectingObserver();
        var result = Trainer.Train(spec.Options with { Device = "cpu" }, new DatasetFiles { Kind = "csv", CsvPath = csv, LabelColumn = spec.Dataset.LabelColumn }, workDir, observer, null, CancellationToken.None);

        var points = observer.Epochs.SelectMany(e => new[]
        {
            new MetricPoint("train_loss", e.TrainLoss, e.Epoch, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
            new MetricPoint("val_accuracy", e.ValidationAccuracy, e.Epoch, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
        }).ToList();
        (await Http.PostAsJsonAsync($"/api/v1/runs/{RunId}/log-batch", new LogBatch(points))).EnsureSuccessStatusCode();
        using (var model = new StreamContent(File.OpenRead(result.ModelPackagePath)))
            (await Http.PutAsync($"/api/v1/runs/{RunId}/model", model)).EnsureSuccessStatusCode();
        (await Http.PostAsJsonAsync($"/api/v1/runs/{RunId}/finish", new FinishReport(FinishStatus.Finished, null,
            ModelOps.Jobs.Worker.WorkerProgram.ToDto(result.Evaluation)))).EnsureSuccessStatusCode();
    }

    private sealed class CollectingObserver : ITrainingObserver
    {
        public List<EpochMetrics> Epochs { get; } = [];
        public void OnProgress(TrainingProgress progress) { }
        public void OnEpochEnd(EpochMetrics metrics) => Epochs.Add(metrics);
        public void OnCheckpoint(string checkpointPath, int epoch) { }
    }
}
