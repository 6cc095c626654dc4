using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace ModelOps.TestSupport;

/// <summary>
/// The real portal executable, as the README's run command starts it (working directory = the
/// repository root, so the root appsettings.json applies), on a free loopback port and its own
/// data folder. Used where a test needs real worker processes or a real browser.
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public string DataDirectory { get; }
    public string BaseUrl { get; }
    public HttpClient Http { get; }

    private PortalProcess(Process process, string dataDirectory, string baseUrl)
    {
        _process = process;
        DataDirectory = dataDirectory;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(2) };
    }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static async Task<PortalProcess> StartAsync(string dataDirectory, int? port = null, params string[] settings)
    {
        var chosen = port ?? FreePort();
        var url = $"http://127.0.0.1:{chosen}";
        var start = new ProcessStartInfo(PortalExecutable)
        {
            WorkingDirectory = RepositoryRoot,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add($"--urls={url}");
        start.ArgumentList.Add($"--ModelOps:DataDirectory={dataDirectory}");
        // The first Admin from configuration, as a deployment would make it; the API helpers act as them.
        start.ArgumentList.Add($"--ModelOps:Auth:AdminUserName={AdminName}");
        start.ArgumentList.Add($"--ModelOps:Auth:AdminPassword={AdminPassword}");
        foreach (var setting in settings) start.ArgumentList.Add(setting);
        var process = Process.Start(start) ?? throw new InvalidOperationException("The portal did not start.");
        var portal = new PortalProcess(process, dataDirectory, url);
        process.OutputDataReceived += (_, e) => portal.Append(e.Data);
        process.ErrorDataReceived += (_, e) => portal.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await portal.WaitHealthyAsync(TimeSpan.FromSeconds(90));
        portal.AdminToken = await portal.TokenAsync(AdminName, AdminPassword);
        portal.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", portal.AdminToken);
        Tokens[url] = portal.AdminToken;
        return portal;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Tokens = new();

    /// <summary>A personal token of the first Admin, which <see cref="Http"/> sends.</summary>
    public string AdminToken { get; private set; } = "";

    /// <summary>The Admin's token of the portal at <paramref name="baseUrl"/>, for clients started elsewhere (the Python client's $MODELOPS_TOKEN).</summary>
    public static string? TokenFor(string baseUrl) => Tokens.TryGetValue(baseUrl.TrimEnd('/'), out var token) ? token : null;

    public const string AdminName = "admin";
    public const string AdminPassword = "admin-test-password";

    /// <summary>Signs in through the login form (antiforgery token and all) and returns a client holding the sign-in cookie.</summary>
    public async Task<HttpClient> SignInAsync(string userName, string password)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromMinutes(2),
        };
        var page = await client.GetStringAsync("/login");
        var antiforgery = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"");
        if (!antiforgery.Success) throw new InvalidOperationException("The login page has no antiforgery token:\n" + page);
        using var response = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = antiforgery.Groups[1].Value, ["userName"] = userName, ["password"] = password, ["returnUrl"] = "/",
        }));
        var location = response.Headers.Location?.ToString() ?? "";
        if (response.StatusCode != HttpStatusCode.Redirect || location.Contains("error=", StringComparison.Ordinal))
            throw new InvalidOperationException($"Sign-in as {userName} failed: {(int)response.StatusCode} {location}");
        return client;
    }

    /// <summary>A personal API token of the user, made after signing in with the password.</summary>
    public async Task<string> TokenAsync(string userName, string password, bool readOnly = false)
    {
        using var client = await SignInAsync(userName, password);
        using var response = await client.PostAsJsonAsync("/api/v1/tokens", new { name = "tests", readOnly }, Json);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"Token for {userName} failed: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The portal exited with {_process.ExitCode}:\n{Log}");
            try
            {
                using var response = await Http.GetAsync("/healthz");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"The portal did not become healthy within {timeout}.\n{Log}");
    }

    /// <summary>SIGKILL, as a crash or the OOM killer would: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    // ---- API helpers shared by the process-level tests ----

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<JsonElement> UploadCsvAsync(string name, string csv, string? label = null)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(name), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", name + ".csv" },
        };
        if (label is not null) form.Add(new StringContent(label), "labelColumn");
        using var response = await Http.PostAsync("/api/v1/datasets/csv", form);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"Upload failed: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<int> CreateRunAsync(object request)
    {
        using var response = await Http.PostAsJsonAsync("/api/v1/runs", request, Json);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"Create run failed: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt32();
    }

    /// <summary>Uploads a generated separable CSV and queues an MLP run on it (batch 16); returns the run id.</summary>
    public async Task<int> StartMlpRunAsync(int epochs, int rows = 1500, string dataset = "points")
    {
        var version = (await UploadCsvAsync(dataset, TestData.SeparableCsv(rows))).GetProperty("id").GetInt32();
        return await CreateRunAsync(new
        {
            datasetVersionId = version, template = "mlp", epochs, batchSize = 16, learningRate = 0.005, optimizer = "adam",
            seed = 11, validationFraction = 0.2, testFraction = 0.2,
        });
    }

    public async Task<JsonElement> GetRunAsync(int id) =>
        JsonDocument.Parse(await Http.GetStringAsync($"/api/v1/runs/{id}")).RootElement.Clone();

    /// <summary>Polls the run until the condition holds; fails with the run's last state and the portal log.</summary>
    public async Task<JsonElement> WaitForRunAsync(int id, Func<JsonElement, bool> condition, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        JsonElement run = default;
        while (DateTime.UtcNow < until)
        {
            run = await GetRunAsync(id);
            if (condition(run)) return run;
            await Task.Delay(200);
        }
        throw new TimeoutException($"Run {id} did not reach the expected state within {timeout}; last: {run}\n--- portal log ---\n{Tail(Log, 4000)}");
    }

    /// <summary>
    /// The pid of this portal's worker for the run, from /proc. The worker's command line names its
    /// portal and run; both are matched, since portals under test in parallel each have a run 1.
    /// </summary>
    public int? FindWorkerProcess(int runId) => FindWorkerProcesses(runId).Cast<int?>().FirstOrDefault();

    /// <summary>Every worker process of this portal for the run (a run must never have more than one).</summary>
    public IReadOnlyList<int> FindWorkerProcesses(int runId)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                string? Arg(string name)
                {
                    var i = Array.IndexOf(args, name);
                    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
                }
                if (args[0].EndsWith("ModelOps.Jobs", StringComparison.Ordinal) && Arg("--portal") == BaseUrl && Arg("--run") == runId.ToString())
                    found.Add(pid);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    /// <summary>The portal's own process id (for CPU and memory readings).</summary>
    public int ProcessId => _process.Id;

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The portal as built for this configuration (the test project references it, so it is built first).</summary>
    public static string PortalExecutable
    {
        get
        {
            var configuration = typeof(PortalProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "Configuration")?.Value ?? "Debug";
            var path = Path.Combine(RepositoryRoot, "src", "Portal", "bin", configuration, "net10.0", "linux-x64", "ModelOps.Portal");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build the portal first: {path} is missing.");
        }
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ModelOpsPortal.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("ModelOpsPortal.sln not found above the test assembly.");
    }
}

/// <summary>A temporary folder that is removed with the test.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("modelops-test-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
