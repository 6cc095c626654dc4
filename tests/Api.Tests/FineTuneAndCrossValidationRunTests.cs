using System.Globalization;
using System.Net;
using System.Text.Json;
using ModelOps.TestSupport;

namespace ModelOps.Api.Tests;

/// <summary>
/// The real portal and real workers: a model registered from a first run is fine-tuned on a shifted copy
/// of its data, and a small table is cross-validated with each fold's figures arriving as it finishes.
/// Tiny data and few epochs keep both well under a minute on two cores.
/// </summary>
public sealed class FineTuneAndCrossValidationRunTests : IAsyncLifetime
{
    private readonly TempFolder _data = new();
    private PortalProcess _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalProcess.StartAsync(_data.Path, null, "--ModelOps:SeedDemoData=false");

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _data.Dispose();
    }

    private static string Status(JsonElement run) => run.GetProperty("status").GetString()!;

    private Task<JsonElement> FinishAsync(int runId) =>
        _portal.WaitForRunAsync(runId, r => Status(r) is "Finished" or "Failed" or "Cancelled", TimeSpan.FromMinutes(3));

    private static string Shifted(string csv, double shift) => string.Join('\n', csv.Split('\n').Select((line, i) =>
    {
        if (i == 0 || line.Length == 0) return line;
        var cells = line.Split(',');
        cells[1] = (double.Parse(cells[1], CultureInfo.InvariantCulture) + shift).ToString("0.0000", CultureInfo.InvariantCulture);
        return string.Join(',', cells);
    }));

    [Fact]
    public async Task A_registered_model_is_fine_tuned_on_a_shifted_copy_and_the_child_records_its_parent()
    {
        var original = TestData.SeparableCsv(240, seed: 5);
        var first = (await _portal.UploadCsvAsync("points", original)).GetProperty("id").GetInt32();
        var parentRun = await _portal.CreateRunAsync(new { datasetVersionId = first, options = new { epochs = 3, batchSize = 16, learningRate = 0.01, hiddenLayers = new[] { 16 } } });
        var parent = await FinishAsync(parentRun);
        Assert.True(Status(parent) == "Finished", parent.ToString());
        using (var registered = await _portal.Http.PostAsync("/api/v1/models/points/versions", JsonContent(new { runId = parentRun })))
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);

        var shifted = (await _portal.UploadCsvAsync("points-shifted", Shifted(original, 0.3))).GetProperty("id").GetInt32();
        var childRun = await _portal.CreateRunAsync(new
        {
            datasetVersionId = shifted, parentModel = new { name = "points", version = 1 }, options = new { epochs = 2, batchSize = 16, trainableLayers = 1 },
        });
        var child = await FinishAsync(childRun);

        Assert.True(Status(child) == "Finished", child.ToString());
        Assert.Equal(("points", 1), (child.GetProperty("parentModel").GetProperty("name").GetString(), child.GetProperty("parentModel").GetProperty("version").GetInt32()));
        var options = child.GetProperty("options");
        Assert.Equal(1e-4, options.GetProperty("learningRate").GetDouble(), 12);
        Assert.Equal([16], options.GetProperty("hiddenLayers").EnumerateArray().Select(w => w.GetInt32()));
        var parameters = child.GetProperty("params");
        Assert.Equal("points", parameters.GetProperty("parent_model").GetString());
        // One hidden layer and the output: only the output trains, the hidden layer (and its batch norm) stay frozen.
        Assert.True(int.Parse(parameters.GetProperty("frozen_layers").GetString()!, CultureInfo.InvariantCulture) >= 1, parameters.ToString());
        Assert.Equal("none", parameters.GetProperty("fresh_parameters").GetString()); // same classes: the head is the parent's too
        Assert.True(child.GetProperty("testAccuracy").GetDouble() > 0.6, child.ToString());

        // The PyTorch state dict came with the package, and a version registered from the child shows its lineage.
        var artifacts = await _portal.Http.GetStringAsync($"/api/v1/runs/{childRun}/artifacts");
        Assert.Contains("\"model.pt\"", artifacts);
        using (var registered = await _portal.Http.PostAsync("/api/v1/models/points/versions", JsonContent(new { runId = childRun })))
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var model = JsonDocument.Parse(await _portal.Http.GetStringAsync("/api/v1/models/points")).RootElement;
        var v2 = model.GetProperty("versions").EnumerateArray().Single(v => v.GetProperty("version").GetInt32() == 2);
        Assert.Equal(1, v2.GetProperty("parentModel").GetProperty("version").GetInt32());
        Assert.True(v2.GetProperty("hasPyTorchStateDict").GetBoolean());
        using var pt = await _portal.Http.GetAsync("/api/v1/models/points/versions/2/pytorch");
        Assert.Equal(HttpStatusCode.OK, pt.StatusCode);
        Assert.True((await pt.Content.ReadAsByteArrayAsync()).Length > 100);
    }

    [Fact]
    public async Task A_k_fold_run_reports_each_fold_and_its_mean_and_deviation()
    {
        var version = (await _portal.UploadCsvAsync("small", TestData.SeparableCsv(90, seed: 3))).GetProperty("id").GetInt32();
        var runId = await _portal.CreateRunAsync(new { datasetVersionId = version, options = new { epochs = 2, batchSize = 16, learningRate = 0.01, crossValidationFolds = 3 } });
        var run = await FinishAsync(runId);

        Assert.True(Status(run) == "Finished", run.ToString());
        var history = JsonDocument.Parse(await _portal.Http.GetStringAsync($"/api/v1/runs/{runId}/metrics/history?key=cv_accuracy")).RootElement.GetProperty("points");
        Assert.Equal([1, 2, 3], history.EnumerateArray().Select(p => (int)p.GetProperty("step").GetInt64()));
        var cv = run.GetProperty("crossValidation");
        Assert.Equal(3, cv.GetProperty("k").GetInt32());
        Assert.Equal(3, cv.GetProperty("folds").GetArrayLength());
        Assert.All(cv.GetProperty("folds").EnumerateArray(), f => Assert.True(f.GetProperty("heldOutSamples").GetInt32() > 0));
        var mean = cv.GetProperty("mean").GetProperty("accuracy").GetDouble();
        Assert.Equal(mean, run.GetProperty("metrics").GetProperty("cv_accuracy_mean").GetDouble(), 9);
        Assert.True(run.GetProperty("metrics").TryGetProperty("cv_accuracy_std", out _));
        Assert.True(run.GetProperty("testAccuracy").ValueKind == JsonValueKind.Number);
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body, PortalProcess.Json), System.Text.Encoding.UTF8, "application/json");
}
