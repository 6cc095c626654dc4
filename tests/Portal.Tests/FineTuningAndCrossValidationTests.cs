using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Demo;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>One portal with a registered tabular model "points" v1 (x, y numeric; colour categorical), trained for real.</summary>
public sealed class RegisteredParentPortal : IAsyncLifetime
{
    private readonly TempFolder _work = new();
    public PortalFactory Portal { get; } = new();
    public HttpClient Http { get; private set; } = null!;
    public int ParentRunId { get; private set; }

    public async Task InitializeAsync()
    {
        Http = Portal.CreateClient();
        ParentRunId = await SimulatedWorker.QueueCsvRunAsync(Http, "points");
        var worker = await SimulatedWorker.BeginAsync(Portal, ParentRunId);
        await worker.TrainAndFinishAsync(_work.Path);
        (await Http.PostAsJsonAsync("/api/v1/models/points/versions", new { runId = ParentRunId })).EnsureSuccessStatusCode();
    }

    public async Task<int> UploadCsvAsync(string name, string csv, string? kind = null, string? label = null)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(name), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", name + ".csv" },
        };
        if (kind is not null) form.Add(new StringContent(kind), "kind");
        if (label is not null) form.Add(new StringContent(label), "labelColumn");
        var uploaded = await Http.PostAsync("/api/v1/datasets/csv", form);
        Assert.True(uploaded.IsSuccessStatusCode, await uploaded.Content.ReadAsStringAsync());
        return (await uploaded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    /// <summary>The same columns with x shifted by <paramref name="shift"/>: new data a fine-tune adapts to.</summary>
    public static string Shifted(string csv, double shift) => string.Join('\n', csv.Split('\n').Select((line, i) =>
    {
        if (i == 0 || line.Length == 0) return line;
        var cells = line.Split(',');
        cells[0] = (double.Parse(cells[0], CultureInfo.InvariantCulture) + shift).ToString("0.0000", CultureInfo.InvariantCulture);
        return string.Join(',', cells);
    }));

    public Task DisposeAsync()
    {
        Portal.Dispose();
        _work.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Fine-tuning from a registered version and k-fold cross-validation through the API: what is refused
/// (a 400 that names the misfit), what a run records (its parent, its folds) and what its worker is told.
/// </summary>
public sealed class FineTuningAndCrossValidationTests(RegisteredParentPortal fixture) : IClassFixture<RegisteredParentPortal>
{
    private readonly PortalFactory _portal = fixture.Portal;
    private readonly HttpClient _http = fixture.Http;

    private int Runs() => _portal.Db(db => db.Runs.Count());

    [Fact]
    public async Task A_fine_tune_on_a_shifted_copy_records_its_parent_and_its_worker_gets_the_parent_package()
    {
        var version = await fixture.UploadCsvAsync("points-shifted", RegisteredParentPortal.Shifted(TestData.SeparableCsv(200, seed: 9), 0.5));
        var created = await _http.PostAsJsonAsync("/api/v1/runs", new
        {
            datasetVersionId = version, parentModel = new { name = "points", version = 1 },
            options = new { epochs = 2, trainableLayers = 1, hiddenLayers = new[] { 8 } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var run = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = run.GetProperty("id").GetInt32();

        Assert.Equal(("points", 1), (run.GetProperty("parentModel").GetProperty("name").GetString(), run.GetProperty("parentModel").GetProperty("version").GetInt32()));
        var stored = _portal.Db(db => db.Runs.AsNoTracking().Include(r => r.ParentModelVersion).Single(r => r.Id == id));
        Assert.Equal(fixture.ParentRunId, stored.ParentModelVersion!.RunId);
        var options = RunOptions.Read(stored);
        // No rate was named: a fine-tune starts at a tenth of the default. The network is the parent's, not the 8 asked for.
        Assert.Equal(1e-4, options.LearningRate, 12);
        Assert.Equal([128, 64], options.HiddenLayers);
        Assert.Equal(1, options.TrainableLayers);
        var shown = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}");
        Assert.Equal("points", shown.GetProperty("params").GetProperty("parent_model").GetString());
        Assert.Equal("1", shown.GetProperty("params").GetProperty("trainable_layers").GetString());
        var listed = await _http.GetFromJsonAsync<JsonElement>("/api/v1/runs");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), r => r.GetProperty("id").GetInt32() == id && r.GetProperty("parentModel").GetProperty("version").GetInt32() == 1);

        var worker = await SimulatedWorker.BeginAsync(_portal, id);
        var spec = (await worker.Http.GetFromJsonAsync<RunSpec>($"/api/v1/runs/{id}/spec"))!;
        var package = _portal.Db(db => db.ModelVersions.Single(v => v.RunId == fixture.ParentRunId)).ArtifactPath;
        var expected = await File.ReadAllBytesAsync(Path.Combine(_portal.DataDirectory, package));
        Assert.Equal(new ParentModelSpec("points", 1, expected.Length), spec.ParentModel);
        Assert.Equal(expected, await worker.Http.GetByteArrayAsync($"/api/v1/runs/{id}/parent-model"));
        // Only the run's own worker reads it.
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.GetAsync($"/api/v1/runs/{id}/parent-model")).StatusCode);
    }

    [Fact]
    public async Task A_learning_rate_the_request_names_is_kept_even_when_it_is_the_usual_default()
    {
        var version = await fixture.UploadCsvAsync("points-rate", TestData.SeparableCsv(60, seed: 4));
        var created = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = version, parentModel = new { name = "points", version = 1 }, options = new { learningRate = 0.001 } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        Assert.Equal(0.001, RunOptions.Read(_portal.Db(db => db.Runs.AsNoTracking().Single(r => r.Id == id))).LearningRate);
    }

    public static TheoryData<string, string, string> Misfits => new()
    {
        // dataset csv, extra option, the sentence the 400 holds
        { "x,y,label\n1,2,high\n-1,-2,low\n", "", "reads the categorical column 'colour', which this dataset does not have" },
        { "x,y,colour,label\nbig,2,red,high\nsmall,-2,blue,low\n", "", "Column 'x' is numeric for Model 'points' v1 but categorical in this dataset" },
        { "x,y,colour,label\n1,2,red,1.5\n-1,-2,blue,-0.5\n", "regression", "Model 'points' v1 does classification, but this run asks for regression" },
        { "x,y,colour,label\n1,2,red,high\n-1,-2,blue,low\n", "template", "keeps the template of model 'points' v1 ('mlp')" },
    };

    [Theory]
    [MemberData(nameof(Misfits))]
    public async Task A_parent_that_does_not_fit_the_dataset_is_a_400_naming_the_problem_and_creates_nothing(string csv, string extra, string expected)
    {
        var version = await fixture.UploadCsvAsync("misfit-" + Guid.NewGuid().ToString("N")[..8], csv);
        var before = Runs();
        object options = extra switch
        {
            "regression" => new { task = "regression" },
            "template" => new { template = "cnn" },
            _ => new { },
        };
        var response = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = version, parentModel = new { name = "points", version = 1 }, options });
        var problem = await HttpAssert.ProblemAsync(response, 400, "");
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetString()!.Contains(expected));
        Assert.Equal(before, Runs());
    }

    [Fact]
    public async Task Fine_tuning_refuses_an_image_dataset_an_unknown_version_and_trainable_layers_without_a_parent()
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("bands-" + Guid.NewGuid().ToString("N")[..8]), "name" },
            { new ByteArrayContent(TestData.IdxImages(30)), "trainImages", "images.gz" },
            { new ByteArrayContent(TestData.IdxLabels(30)), "trainLabels", "labels.gz" },
        };
        var images = (await (await _http.PostAsync("/api/v1/datasets/idx", form)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var before = Runs();
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = images, parentModel = new { name = "points", version = 1 } }),
            400, "Model 'points' v1 reads tabular input, but this dataset is idx");
        var csv = await fixture.UploadCsvAsync("plain-" + Guid.NewGuid().ToString("N")[..8], TestData.SeparableCsv(40));
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = csv, parentModel = new { name = "points", version = 7 } }),
            404, "Version 7 of model 'points'");
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = csv, options = new { trainableLayers = 2 } }),
            400, "TrainableLayers applies to fine-tuning only");
        Assert.Equal(before, Runs());
    }

    [Fact]
    public async Task A_k_fold_run_stores_its_folds_and_the_finish_report_is_kept_with_mean_and_std_metrics()
    {
        var version = await fixture.UploadCsvAsync("small-" + Guid.NewGuid().ToString("N")[..8], TestData.SeparableCsv(80));
        await HttpAssert.ProblemAsync(await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = version, options = new { crossValidationFolds = 1 } }),
            400, "CrossValidationFolds must be 0 (off) or from 2 to 10");
        var created = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = version, options = new { crossValidationFolds = 3, epochs = 2 } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var run = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}");
        Assert.Equal(3, run.GetProperty("options").GetProperty("crossValidationFolds").GetInt32());
        Assert.Equal("3", run.GetProperty("params").GetProperty("cross_validation_folds").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("crossValidation").ValueKind);

        var worker = await SimulatedWorker.BeginAsync(_portal, id);
        (await worker.Http.PutAsync($"/api/v1/runs/{id}/model", new ByteArrayContent([1, 2, 3]))).EnsureSuccessStatusCode();
        var folds = Enumerable.Range(1, 3).Select(f => new FoldDto(f, 42, 22, 2, new Dictionary<string, double> { ["accuracy"] = 0.8 + f / 100.0, ["loss"] = 0.5 })).ToList();
        var report = new CrossValidationDto(3, folds, new Dictionary<string, double> { ["accuracy"] = 0.82, ["loss"] = 0.5 }, new Dictionary<string, double> { ["accuracy"] = 0.01, ["loss"] = 0 }, 2);
        var evaluation = new EvaluationReportDto(0.9, 0.9, 0.9, 0.9, [[8, 1], [1, 6]], ["high", "low"], 16);
        (await worker.Http.PostAsJsonAsync($"/api/v1/runs/{id}/finish", new FinishReport(FinishStatus.Finished, null, evaluation, report))).EnsureSuccessStatusCode();

        var finished = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}");
        var cv = finished.GetProperty("crossValidation");
        Assert.Equal((3, 2), (cv.GetProperty("k").GetInt32(), cv.GetProperty("refitEpochs").GetInt32()));
        Assert.Equal(0.83, cv.GetProperty("folds")[2].GetProperty("metrics").GetProperty("accuracy").GetDouble(), 9);
        Assert.Equal(0.82, finished.GetProperty("metrics").GetProperty("cv_accuracy_mean").GetDouble(), 9);
        Assert.Equal(0.01, finished.GetProperty("metrics").GetProperty("cv_accuracy_std").GetDouble(), 9);
    }

    [Fact]
    public async Task Text_transformer_options_are_validated_and_only_its_own_params_are_written()
    {
        var version = await fixture.UploadCsvAsync("reviews-" + Guid.NewGuid().ToString("N")[..8], DemoSeed.GenerateReviews(60, 3), kind: "text", label: "sentiment");
        var before = Runs();
        var refused = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = version, options = new { template = "text-transformer", embeddingDim = 30, attentionHeads = 4 } });
        var problem = await HttpAssert.ProblemAsync(refused, 400, "EmbeddingDim must be a multiple of AttentionHeads");
        var tooDeep = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = version, options = new { template = "text-transformer", transformerLayers = 13, attentionHeads = 17 } });
        var errors = (await HttpAssert.ProblemAsync(tooDeep, 400, "")).GetProperty("errors").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("TransformerLayers must be from 1 to 12", errors);
        Assert.Contains("AttentionHeads must be from 1 to 16", errors);
        Assert.Equal(before, Runs());

        var created = await _http.PostAsJsonAsync("/api/v1/runs", new
        {
            datasetVersionId = version,
            options = new { template = "text-transformer", embeddingDim = 32, attentionHeads = 8, transformerLayers = 3, hiddenSize = 48, maxTokens = 24, vocabularySize = 300 },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var parameters = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("params");
        Assert.Equal(("3", "8", "32", "48"), (parameters.GetProperty("transformer_layers").GetString(), parameters.GetProperty("attention_heads").GetString(),
            parameters.GetProperty("embedding_dim").GetString(), parameters.GetProperty("hidden_size").GetString()));
        // ToParams writes what applies: no conv or mlp shape, no momentum for adam, no tabular data policy.
        foreach (var absent in new[] { "conv_blocks", "hidden_layers", "batch_norm", "momentum", "missing_values", "step_size" })
            Assert.False(parameters.TryGetProperty(absent, out _), absent);
    }

    [Fact]
    public async Task A_registered_version_shows_its_parent_and_serves_its_package()
    {
        var model = await _http.GetFromJsonAsync<JsonElement>("/api/v1/models/points");
        var v1 = model.GetProperty("versions").EnumerateArray().Single(v => v.GetProperty("version").GetInt32() == 1);
        Assert.Equal(JsonValueKind.Null, v1.GetProperty("parentModel").ValueKind);
        var package = await _http.GetAsync("/api/v1/models/points/versions/1/package");
        Assert.Equal(HttpStatusCode.OK, package.StatusCode);
        Assert.Equal("points-v1.mopkg", package.Content.Headers.ContentDisposition?.FileNameStar ?? package.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"/api/v1/runs/{fixture.ParentRunId}/package")).StatusCode);
        // The simulated worker exported no PyTorch state dict.
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/models/points/versions/1/pytorch"), 404, "PyTorch state dict");
    }
}

public sealed class OpenApiDocumentTests : IDisposable
{
    private readonly PortalFactory _portal = new();

    public void Dispose() => _portal.Dispose();

    [Fact]
    public async Task The_openapi_document_describes_the_run_request_with_its_parent_and_the_new_downloads()
    {
        var document = await _portal.CreateClient().GetFromJsonAsync<JsonElement>("/api/v1/openapi.json");
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths");
        var body = paths.GetProperty("/api/v1/runs").GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        Assert.EndsWith("/NewRunRequest", body.GetProperty("$ref").GetString());
        var request = document.GetProperty("components").GetProperty("schemas").GetProperty("NewRunRequest").GetProperty("properties");
        Assert.True(request.TryGetProperty("parentModel", out _));
        Assert.True(request.TryGetProperty("options", out _));
        Assert.False(request.TryGetProperty("givenOptions", out _));
        foreach (var route in new[] { "/api/v1/runs/{id}/parent-model", "/api/v1/runs/{id}/package", "/api/v1/models/{name}/versions/{version}/package", "/api/v1/models/{name}/versions/{version}/pytorch" })
            Assert.True(paths.TryGetProperty(route, out _), route);
    }
}

public sealed class FineTuningMigrationTests
{
    [Fact]
    public void M0004_keeps_earlier_runs_as_trained_from_scratch_without_folds()
    {
        using var folder = new TempFolder();
        var dbOptions = new DbContextOptionsBuilder<PortalDb>().UseSqlite($"Data Source={Path.Combine(folder.Path, "old.db")};Pooling=False").Options;
        using (var db = new PortalDb(dbOptions))
        {
            db.GetService<IMigrator>().Migrate("20261122000003_RunOptions");
            db.Database.ExecuteSqlRaw("""
                INSERT INTO datasets (Id, Name, CreatedAt, CreatedBy) VALUES (1, 'd', '2026-11-01 10:00:00', 'u');
                INSERT INTO dataset_versions (Id, DatasetId, Version, Kind, Rows, SizeBytes, Sha256, ProfileJson, StoragePath, OriginalFileName, CreatedAt, CreatedBy)
                    VALUES (1, 1, 1, 'csv', 10, 100, 'x', '{{}}', 'datasets/1/v1', 'd.csv', '2026-11-01 10:00:00', 'u');
                INSERT INTO runs (Id, ExperimentId, Kind, Name, DatasetVersionId, Template, Epochs, BatchSize, LearningRate, Optimizer, Seed, ValidationFraction, TestFraction,
                    Status, Source, CreatedAt, CreatedBy, Progress, CurrentEpoch, Attempt, CancelRequested, CheckpointEpoch, HasModel)
                    VALUES (7, 1, 0, 'old run', 1, 'mlp', 3, 128, 0.002, 'sgd', 9, 0.15, 0.25, 2, 'UI', '2026-11-01 10:00:00', 'u', 1, 3, 1, 0, 3, 1);
                """);
        }
        using (var db = new PortalDb(dbOptions))
        {
            db.Database.Migrate();
            Assert.Contains("20261201000004_FineTuningAndCrossValidation", db.Database.GetAppliedMigrations());
            var run = db.Runs.AsNoTracking().Single(r => r.Id == 7);
            Assert.Equal(((int?)null, (string?)null), (run.ParentModelVersionId, run.CrossValidationJson));
            Assert.Null(RunCrossValidation.From(run));
            Assert.Equal("ok", db.Database.SqlQuery<string>($"PRAGMA integrity_check").AsEnumerable().First());
        }
    }
}
