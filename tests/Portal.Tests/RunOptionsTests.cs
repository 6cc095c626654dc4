using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using ModelOps.Engine.Training;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>A run's full TrainingOptions: stored with it, validated before anything is written, sent to the worker.</summary>
public sealed class RunOptionsTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;

    public RunOptionsTests() => _http = _portal.CreateClient();

    public void Dispose() => _portal.Dispose();

    private async Task<int> UploadCsvAsync()
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("points"), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(TestData.SeparableCsv(200))), "file", "points.csv" },
        };
        var uploaded = await _http.PostAsync("/api/v1/datasets/csv", form);
        uploaded.EnsureSuccessStatusCode();
        return (await uploaded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    [Fact]
    public async Task Options_posted_to_the_api_are_stored_written_as_params_and_sent_in_the_spec()
    {
        var version = await UploadCsvAsync();
        var options = new TrainingOptions
        {
            Template = "mlp", HiddenLayers = [32, 16], BatchNorm = false, Dropout = 0.3, Optimizer = Optimizers.AdamW, WeightDecay = 0.02,
            Schedule = Schedules.Cosine, WarmupEpochs = 1, Epochs = 4, LabelSmoothing = 0.1, EarlyStoppingPatience = 2, MissingValues = MissingValuePolicies.Zero,
        };
        var created = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = version, options });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();

        var run = _portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == id));
        Assert.Equal(options, RunOptions.Read(run) with { HiddenLayers = options.HiddenLayers });
        Assert.Equal([32, 16], RunOptions.Read(run).HiddenLayers);
        Assert.Equal(("adamw", 4), (run.Optimizer, run.Epochs));
        Assert.Contains("\"weightDecay\":0.02", run.OptionsJson);
        var saved = _portal.Db(db => db.RunParams.Where(p => p.RunId == id).ToDictionary(p => p.Key, p => p.Value));
        Assert.Equal("cosine", saved["schedule"]);
        Assert.Equal("32-16", saved["hidden_layers"]);
        Assert.Equal("0.1", saved["label_smoothing"]);

        var shown = (await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}")).GetProperty("options");
        Assert.Equal("adamw", shown.GetProperty("optimizer").GetString());
        Assert.Equal(0.1, shown.GetProperty("labelSmoothing").GetDouble());

        var worker = await SimulatedWorker.BeginAsync(_portal, id);
        var spec = (await worker.Http.GetFromJsonAsync<RunSpec>($"/api/v1/runs/{id}/spec"))!;
        Assert.Equal(Schedules.Cosine, spec.Options.Schedule);
        Assert.Equal(0.02, spec.Options.WeightDecay);
        Assert.Equal([32, 16], spec.Options.HiddenLayers);
        Assert.Equal(spec.Device, spec.Options.Device);
    }

    [Fact]
    public async Task Invalid_options_are_a_400_listing_every_problem_and_write_nothing()
    {
        var version = await UploadCsvAsync();
        var response = await _http.PostAsJsonAsync("/api/v1/runs", new
        {
            datasetVersionId = version,
            options = new { template = "cnn", optimizer = "adam", nesterov = true, dropout = 1.5, schedule = "sawtooth" },
        });
        var problem = await HttpAssert.ProblemAsync(response, 400, "Dropout must be in [0, 1)");
        var errors = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.StartsWith("Nesterov needs the sgd optimizer"));
        Assert.Contains(errors, e => e.StartsWith("Schedule 'sawtooth' is unknown"));
        Assert.Contains(errors, e => e.Contains("does not fit a csv dataset"));
        Assert.Equal(4, errors.Count);
        Assert.Equal(0, _portal.Db(db => db.Runs.Count()));
        Assert.Equal(0, _portal.Db(db => db.RunParams.Count()));
    }

    [Fact]
    public async Task Regression_on_a_text_label_is_refused()
    {
        var version = await UploadCsvAsync();
        var response = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = version, options = new { template = "mlp", task = "regression" } });
        await HttpAssert.ProblemAsync(response, 400, "needs a numeric label");
        Assert.Equal(0, _portal.Db(db => db.Runs.Count()));
    }

    [Fact]
    public async Task Flat_fields_of_older_clients_override_the_options()
    {
        var version = await UploadCsvAsync();
        var created = await _http.PostAsJsonAsync("/api/v1/runs", new
        {
            datasetVersionId = version, epochs = 3, optimizer = "sgd", options = new { optimizer = "adamw", epochs = 9, momentum = 0.5 },
        });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var options = RunOptions.Read(_portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == id)));
        Assert.Equal((3, "sgd", 0.5), (options.Epochs, options.Optimizer, options.Momentum));
    }

    [Fact]
    public void M0003_keeps_old_runs_and_their_options_read_back_from_the_columns()
    {
        using var folder = new TempFolder();
        var dbOptions = new DbContextOptionsBuilder<PortalDb>().UseSqlite($"Data Source={Path.Combine(folder.Path, "old.db")};Pooling=False").Options;
        using (var db = new PortalDb(dbOptions))
        {
            db.GetService<IMigrator>().Migrate("20261122000002_Tracking");
            db.Database.ExecuteSqlRaw("""
                INSERT INTO datasets (Id, Name, CreatedAt, CreatedBy) VALUES (1, 'd', '2026-11-01 10:00:00', 'u');
                INSERT INTO dataset_versions (Id, DatasetId, Version, Kind, Rows, SizeBytes, Sha256, ProfileJson, StoragePath, OriginalFileName, CreatedAt, CreatedBy)
                    VALUES (1, 1, 1, 'csv', 10, 100, 'x', '{{}}', 'datasets/1/v1', 'd.csv', '2026-11-01 10:00:00', 'u');
                INSERT INTO runs (Id, ExperimentId, Kind, Name, DatasetVersionId, Template, Epochs, BatchSize, LearningRate, Optimizer, Seed, ValidationFraction, TestFraction,
                    MaxTrainSamples, Status, Source, CreatedAt, CreatedBy, Progress, CurrentEpoch, Attempt, CancelRequested, CheckpointEpoch, HasModel, EvaluationJson)
                    VALUES (7, 1, 0, 'old run', 1, 'cnn', 3, 128, 0.002, 'sgd', 9, 0.15, 0.25, 500, 2, 'UI', '2026-11-01 10:00:00', 'u', 1, 3, 1, 0, 3, 1,
                    '{{"accuracy":0.9,"precisionMacro":0.8,"recallMacro":0.85,"f1Macro":0.82,"confusionMatrix":[[1,0],[0,1]],"classNames":["a","b"],"samples":2}}');
                """);
        }
        using (var db = new PortalDb(dbOptions))
        {
            db.Database.Migrate();
            Assert.Contains("20261122000003_RunOptions", db.Database.GetAppliedMigrations());
            var run = db.Runs.AsNoTracking().Single(r => r.Id == 7);
            Assert.Null(run.OptionsJson);
            var options = RunOptions.Read(run);
            Assert.Equal(("cnn", 3, 128, 0.002, "sgd", 9L), (options.Template, options.Epochs, options.BatchSize, options.LearningRate, options.Optimizer, options.Seed));
            Assert.Equal((0.15, 0.25, (int?)500), (options.ValidationFraction, options.TestFraction, options.MaxTrainSamples));
            Assert.Equal(new TrainingOptions().Schedule, options.Schedule);
            // An evaluation stored before the extended figures still reads, as a classification without them.
            var evaluation = RunEvaluation.From(run)!;
            Assert.Equal((0.9, "classification", (double?)null), (evaluation.Accuracy, evaluation.Task, evaluation.F1Weighted));

            RunOptions.Write(run, options with { Schedule = Schedules.Step, Gamma = 0.5 });
            db.Runs.Update(run);
            db.SaveChanges();
        }
        using (var db = new PortalDb(dbOptions))
        {
            var options = RunOptions.Read(db.Runs.AsNoTracking().Single(r => r.Id == 7));
            Assert.Equal((Schedules.Step, 0.5, "cnn"), (options.Schedule, options.Gamma, options.Template));
        }
    }
}
