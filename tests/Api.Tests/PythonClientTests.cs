using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Api.Tests;

/// <summary>
/// The Python client (clients/python) against the real portal: what a script logs is what the API
/// then serves, failures end the run Failed, and the server's own sentences reach Python callers.
/// </summary>
[Collection(PythonClientCollection.Name)]
public sealed class PythonClientTests(PythonClientTests.Portal portal, ITestOutputHelper output) : IClassFixture<PythonClientTests.Portal>
{
    public sealed class Portal : IAsyncLifetime
    {
        private readonly TempFolder _data = new();
        public PortalProcess Process { get; private set; } = null!;

        public async Task InitializeAsync() => Process = await PortalProcess.StartAsync(_data.Path, null, "--ModelOps:SeedDemoData=false");

        public async Task DisposeAsync()
        {
            await Process.DisposeAsync();
            _data.Dispose();
        }
    }

    private HttpClient Http => portal.Process.Http;

    [Fact]
    public async Task The_client_passes_its_own_unit_tests()
    {
        var result = await Python.RunAsync(["-m", "unittest", "discover", "-s", "clients/python/tests"], baseUrl: null);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task The_example_training_script_leaves_its_params_metrics_tags_and_weights_in_the_portal()
    {
        using var outDir = new TempFolder();
        const int epochs = 30;
        var result = await Python.RunAsync(
            ["clients/python/examples/train_linear.py", "--url", portal.Process.BaseUrl, "--experiment", "example",
             "--epochs", epochs.ToString(), "--out-dir", outDir.Path],
            portal.Process.BaseUrl);
        Assert.True(result.ExitCode == 0, result.ToString());
        output.WriteLine(result.StdOut);
        var summary = JsonDocument.Parse(result.StdOut.TrimEnd().Split('\n')[^1]).RootElement;
        var runId = summary.GetProperty("run_id").GetInt32();

        var run = await GetJsonAsync($"/api/v1/runs/{runId}");
        Assert.Equal("Finished", run.GetProperty("status").GetString());
        Assert.Equal("tracked", run.GetProperty("kind").GetString());
        Assert.Equal("logistic-regression", run.GetProperty("name").GetString());
        var experiment = await GetJsonAsync($"/api/v1/experiments/{run.GetProperty("experimentId").GetInt32()}");
        Assert.Equal("example", experiment.GetProperty("name").GetString());

        var parameters = run.GetProperty("params");
        Assert.Equal("logistic_regression", parameters.GetProperty("model").GetString());
        Assert.Equal("0.5", parameters.GetProperty("learning_rate").GetString());
        Assert.Equal("30", parameters.GetProperty("epochs").GetString());
        Assert.Equal("42", parameters.GetProperty("seed").GetString());
        Assert.Equal("320", parameters.GetProperty("train_size").GetString());
        Assert.Equal("80", parameters.GetProperty("validation_size").GetString());
        var tags = run.GetProperty("tags");
        Assert.Equal("plain-python", tags.GetProperty("framework").GetString());
        Assert.Equal("gaussian-blobs", tags.GetProperty("dataset").GetString());
        Assert.True(tags.TryGetProperty("best_val_accuracy", out _));

        var final = summary.GetProperty("final");
        foreach (var key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
        {
            var history = await GetJsonAsync($"/api/v1/runs/{runId}/metrics/history?key={key}&maxPoints=1000");
            Assert.Equal(epochs, history.GetProperty("totalPoints").GetInt32());
            Assert.False(history.GetProperty("downsampled").GetBoolean());
            var points = history.GetProperty("points").EnumerateArray().ToArray();
            Assert.Equal(Enumerable.Range(1, epochs), points.Select(p => (int)p.GetProperty("step").GetInt64()));
            Assert.Equal(final.GetProperty(key).GetDouble(), points[^1].GetProperty("value").GetDouble());
            Assert.Equal(final.GetProperty(key).GetDouble(), run.GetProperty("metrics").GetProperty(key).GetDouble());
        }
        Assert.True(final.GetProperty("val_accuracy").GetDouble() > 0.8, "the example should really learn the blobs");

        var weights = await File.ReadAllBytesAsync(summary.GetProperty("weights").GetString()!);
        var artifacts = (await GetJsonAsync($"/api/v1/runs/{runId}/artifacts")).EnumerateArray().ToArray();
        var artifact = Assert.Single(artifacts);
        Assert.Equal("model/weights.json", artifact.GetProperty("path").GetString());
        Assert.Equal(weights.Length, artifact.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(weights)), artifact.GetProperty("sha256").GetString());
        Assert.Equal(weights, await Http.GetByteArrayAsync($"/api/v1/runs/{runId}/artifacts/model/weights.json"));

        // The client's read side over the same run: search with a filter, history, download.
        var check = await Python.RunAsync(["-c", $$"""
            import json, modelops, os, tempfile
            client = modelops.Client()
            found = [r["id"] for r in client.search_runs([{{run.GetProperty("experimentId").GetInt32()}}], filter="metrics.val_accuracy > 0.8 and params.model = 'logistic_regression'", order_by=["metrics.val_accuracy DESC"], max_results=1)]
            history = client.metric_history({{runId}}, "loss", max_points=10)
            raw = list(client.metric_points({{runId}}, "loss", page_size=7))
            folder = tempfile.mkdtemp()
            path = client.resume_run({{runId}}).download_artifact("model/weights.json", folder)
            print(json.dumps({"found": found, "history": len(history["points"]), "downsampled": history["downsampled"], "raw": [p["step"] for p in raw], "download": open(path, "rb").read().decode()}))
            """], portal.Process.BaseUrl);
        Assert.True(check.ExitCode == 0, check.ToString());
        var read = JsonDocument.Parse(check.StdOut).RootElement;
        Assert.Equal([runId], read.GetProperty("found").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(10, read.GetProperty("history").GetInt32());
        Assert.True(read.GetProperty("downsampled").GetBoolean());
        Assert.Equal(Enumerable.Range(1, epochs), read.GetProperty("raw").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(Encoding.UTF8.GetString(weights), read.GetProperty("download").GetString());
    }

    [Fact]
    public async Task An_exception_inside_the_run_block_ends_the_run_Failed_and_still_reaches_the_caller()
    {
        var result = await Python.RunAsync(["-c", """
            import modelops
            client = modelops.Client()
            with client.start_run("failures", name="will-fail") as run:
                print(run.id, flush=True)
                run.log_metric("loss", 0.25, step=7)
                raise RuntimeError("boom in training")
            """], portal.Process.BaseUrl);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("RuntimeError: boom in training", result.StdErr);
        var runId = int.Parse(result.StdOut.Trim());
        var run = await GetJsonAsync($"/api/v1/runs/{runId}");
        Assert.Equal("Failed", run.GetProperty("status").GetString());
        Assert.False(run.GetProperty("endedAt").ValueKind == JsonValueKind.Null);
        Assert.Equal(0.25, run.GetProperty("metrics").GetProperty("loss").GetDouble()); // flushed before it was marked
    }

    [Fact]
    public async Task A_param_logged_again_with_another_value_raises_the_servers_409_sentence_in_Python()
    {
        var result = await Python.RunAsync(["-c", """
            import json, modelops
            client = modelops.Client()
            run = client.start_run("conflicts", params={"lr": 0.1})
            print(run.id, flush=True)
            run.log_param("lr", 0.1)  # the same value again is fine
            try:
                run.log_param("lr", 0.2)
            except modelops.ModelOpsError as e:
                print(json.dumps({"status": e.status, "title": e.title, "detail": e.detail, "message": str(e)}))
            """], portal.Process.BaseUrl);
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StdOut.Trim().Split('\n');
        var runId = int.Parse(lines[0]);
        var error = JsonDocument.Parse(lines[1]).RootElement;

        // The same conflict straight over HTTP: the Python exception must carry this very sentence.
        using var direct = await Http.PostAsJsonAsync($"/api/v1/runs/{runId}/log-batch", new { @params = new[] { new { key = "lr", value = "0.3" } } });
        Assert.Equal(409, (int)direct.StatusCode);
        var problem = JsonDocument.Parse(await direct.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(409, error.GetProperty("status").GetInt32());
        Assert.Equal(problem.GetProperty("title").GetString(), error.GetProperty("title").GetString());
        var detail = error.GetProperty("detail").GetString()!;
        Assert.Contains("lr", detail);
        Assert.Equal(problem.GetProperty("detail").GetString()!.Replace("0.3", "0.2"), detail);
        Assert.Contains(detail, error.GetProperty("message").GetString());
        Assert.Equal("0.1", (await GetJsonAsync($"/api/v1/runs/{runId}")).GetProperty("params").GetProperty("lr").GetString());
    }

    private async Task<JsonElement> GetJsonAsync(string path) =>
        JsonDocument.Parse(await Http.GetStringAsync(path)).RootElement.Clone();
}

/// <summary>The tests that drive Python processes run one class at a time: each loads both cores.</summary>
[CollectionDefinition(Name)]
public sealed class PythonClientCollection
{
    public const string Name = "Python client against a real portal";
}

/// <summary>Debian's python3 (found on PATH), run from the repository root with the client importable.</summary>
internal static class Python
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public override string ToString() => $"python3 exited with {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments, string? baseUrl)
    {
        var start = new ProcessStartInfo("python3")
        {
            WorkingDirectory = PortalProcess.RepositoryRoot,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["PYTHONPATH"] = Path.Combine(PortalProcess.RepositoryRoot, "clients", "python");
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        start.Environment.Remove("MODELOPS_TOKEN");
        if (baseUrl is null) start.Environment.Remove("MODELOPS_URL");
        else start.Environment["MODELOPS_URL"] = baseUrl;
        // The client acts as the portal's first Admin, through a personal token, as a script would.
        if (baseUrl is not null && PortalProcess.TokenFor(baseUrl) is { } token) start.Environment["MODELOPS_TOKEN"] = token;
        return start;
    }

    /// <summary>Starts python3 with its output collected; pair with <see cref="WaitAsync"/>.</summary>
    public static (Process Process, StringBuilder StdOut, StringBuilder StdErr) Start(IEnumerable<string> arguments, string? baseUrl)
    {
        var process = new Process { StartInfo = StartInfo(arguments, baseUrl) };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, stdout, stderr);
    }

    public static async Task<Result> WaitAsync((Process Process, StringBuilder StdOut, StringBuilder StdErr) started, TimeSpan timeout)
    {
        var (process, stdout, stderr) = started;
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"python3 did not finish within {timeout}.\n{stdout}\n{stderr}");
        }
        process.WaitForExit(); // drains the redirected output
        var result = new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
        process.Dispose();
        return result;
    }

    public static Task<Result> RunAsync(IEnumerable<string> arguments, string? baseUrl, int timeoutSeconds = 120) =>
        WaitAsync(Start(arguments, baseUrl), TimeSpan.FromSeconds(timeoutSeconds));

    public static string Script(string name) => Path.Combine(PortalProcess.RepositoryRoot, "tests", "Api.Tests", "scripts", name);
}
