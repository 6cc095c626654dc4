using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ModelOps.TestSupport;

namespace ModelOps.Api.Tests;

/// <summary>
/// One portal for the class, with a sentinel file and a marker folder name outside its data folder
/// that no request may change or create. The upload limit is small so a 413 is cheap to provoke.
/// </summary>
public sealed class ArtifactPortal : IAsyncLifetime
{
    public const string Secret = "SENTINEL-SECRET-7f3a";
    public const int MaxUploadBytes = 256 * 1024;

    private readonly TempFolder _data = new();
    private readonly TempFolder _outside = new();

    public PortalProcess Portal { get; private set; } = null!;
    public string Outside => _outside.Path;
    public string OutsideName => Path.GetFileName(_outside.Path);
    public string Sentinel => Path.Combine(_outside.Path, "sentinel.txt");
    public string DataDirectory => _data.Path;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Sentinel, Secret);
        Portal = await PortalProcess.StartAsync(_data.Path, null,
            "--ModelOps:SeedDemoData=false", "--ModelOps:PauseDispatch=true", $"--ModelOps:MaxUploadBytes={MaxUploadBytes}");
    }

    public async Task DisposeAsync()
    {
        await Portal.DisposeAsync();
        _data.Dispose();
        _outside.Dispose();
    }

    /// <summary>A tracked run in the Default experiment (docs/tracking.md).</summary>
    public async Task<int> CreateRunAsync()
    {
        using var response = await Portal.Http.PostAsJsonAsync("/api/v1/experiments/1/runs", new { name = "artifacts" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Create run: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt32();
    }

    public string ArtifactsFolder(int runId) => Path.Combine(_data.Path, "runs", runId.ToString(), "artifacts");

    /// <summary>Nothing outside the data folder was written, created or replaced.</summary>
    public void AssertOutsideUntouched()
    {
        Assert.Equal(Secret, File.ReadAllText(Sentinel));
        Assert.Equal(["sentinel.txt"], Directory.GetFileSystemEntries(_outside.Path).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "marker")), "a marker folder appeared in the temp folder");
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(_data.Path)!, "marker")), "a marker folder appeared beside the data folder");
    }
}

/// <summary>
/// Artifact paths over real HTTP (docs/tracking.md, "Artifacts"). Hostile paths go over a raw socket:
/// HttpClient would resolve dot segments and re-encode characters before sending.
/// </summary>
public sealed class ArtifactTraversalTests(ArtifactPortal fixture) : IClassFixture<ArtifactPortal>
{
    private PortalProcess Portal => fixture.Portal;

    /// <summary>
    /// Targets after "/api/v1/runs/{id}/artifacts/" ({o}: the outside folder's name), each of which
    /// must reach the artifacts route and be refused there with a 400 ProblemDetails.
    /// </summary>
    public static TheoryData<string, string> Hostile => new()
    {
        { "encoded slash", "..%2f..%2f..%2f..%2f{o}%2fsentinel.txt" },
        { "encoded slash, upper case", "..%2F..%2F..%2F..%2F{o}%2Fmarker%2Fx.txt" },
        { "encoded slash after a folder", "sub/..%2f..%2f..%2f..%2f..%2f{o}%2fsentinel.txt" },
        { "double-encoded dots and slash", "%252e%252e%252f%252e%252e%252f%252e%252e%252f%252e%252e%252f{o}%252fsentinel.txt" },
        { "double-encoded dots", "%252e%252e/%252e%252e/%252e%252e/%252e%252e/{o}/sentinel.txt" },
        { "encoded dots that stay on the route", "sub/%2e%2e/sentinel.txt" },
        { "encoded dots back into the route", "%2e%2e/%2e%2e/{id}/artifacts/sentinel.txt" },
        { "mixed-case encoded dots", "sub/%2E%2e/x.txt" },
        { "dot segments back into the route", "../../{id}/artifacts/x.txt" },
        { "a plain dot segment", "./x.txt" },
        { "a dot segment inside", "a/./x.txt" },
        { "encoded backslashes", "..%5c..%5c..%5c..%5c{o}%5csentinel.txt" },
        { "encoded backslash only", "a%5cb.txt" },
        { "raw backslashes", @"..\..\..\..\{o}\sentinel.txt" },
        { "absolute path", "/tmp/{o}/sentinel.txt" },
        { "absolute path, encoded slash", "%2ftmp%2f{o}%2fsentinel.txt" },
        { "drive letter", "C:/Windows/win.ini" },
        { "encoded newline", "a%0ab.txt" },
        { "encoded escape", "a%1bb.txt" },
        { "empty segment", "a//b.txt" },
        { "trailing slash", "plots/" },
        { "only dots", ".../x.txt" },
        { "trailing dot", "evil./x.txt" },
        { "trailing space", "evil%20/x.txt" },
        { "overlong UTF-8 dots", "%c0%ae%c0%ae/%c0%ae%c0%ae/{o}/sentinel.txt" },
        { "invalid UTF-8", "%ff%fe.txt" },
        { "fullwidth dots and solidus", "%ef%bc%8e%ef%bc%8e%ef%bc%8f{o}%ef%bc%8fsentinel.txt" },
        { "division slash", "..%e2%88%95..%e2%88%95{o}" },
        { "one-dot leaders", "%e2%80%a4%e2%80%a4/{o}" },
        { "right-to-left override", "evil%e2%80%aegnp.exe" },
        { "zero-width space", "a%e2%80%8bb.txt" },
        { "reserved folder", ".modelops/tmp/x.part" },
        { "reserved folder, other case", ".ModelOps/x" },
        { "overlong path", new string('a', 200) + "/" + string.Join('/', Enumerable.Repeat(new string('b', 200), 5)) },
        { "overlong segment", new string('a', 256) },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task Put_HostilePath_Is400ProblemAndTouchesNothing(string name, string path)
    {
        var run = await fixture.CreateRunAsync();
        var response = await RawAsync("PUT", Target(run, path), Encoding.UTF8.GetBytes("overwritten by " + name));

        AssertProblem(response, 400, name, field: "path");
        fixture.AssertOutsideUntouched();
        AssertNothingStored(run);
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task Get_HostilePath_Is400ProblemAndReadsNothing(string name, string path)
    {
        var run = await fixture.CreateRunAsync();
        var response = await RawAsync("GET", Target(run, path));

        AssertProblem(response, 400, name, field: "path");
        Assert.DoesNotContain(ArtifactPortal.Secret, response.Body);
    }

    /// <summary>Kestrel refuses a NUL in the path itself (a bare 400) before any route sees it.</summary>
    [Theory]
    [InlineData("sentinel.txt%00.png")]
    [InlineData("%00/../sentinel.txt")]
    [InlineData("..%00/..%00/..%00/..%00/{o}/sentinel.txt")]
    public async Task EncodedNul_IsRefusedByKestrelBeforeRouting(string path)
    {
        var run = await fixture.CreateRunAsync();
        foreach (var method in new[] { "PUT", "GET" })
        {
            var response = await RawAsync(method, Target(run, path), method == "PUT" ? Encoding.UTF8.GetBytes("overwritten") : null);
            Assert.True(response.Status == 400, $"{method} {path}: {response.Status} {response.Body}");
            Assert.DoesNotContain(ArtifactPortal.Secret, response.Body);
        }
        fixture.AssertOutsideUntouched();
        AssertNothingStored(run);
    }

    /// <summary>
    /// Dot segments that climb above the route are resolved by Kestrel before routing, so the request
    /// lands on some other URL (the artifacts route never sees it). Whatever answers, nothing succeeds,
    /// nothing outside is touched and nothing secret is read.
    /// </summary>
    [Theory]
    [InlineData("../../../../{o}/sentinel.txt")]
    [InlineData("%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/{o}/marker/x.txt")]
    [InlineData("../../../../../../../../tmp/{o}/sentinel.txt")]
    public async Task HostilePath_ThatLeavesTheRoute_NeverSucceeds(string path)
    {
        var run = await fixture.CreateRunAsync();
        foreach (var method in new[] { "PUT", "GET" })
        {
            var response = await RawAsync(method, Target(run, path), method == "PUT" ? Encoding.UTF8.GetBytes("overwritten") : null);
            Assert.True(response.Status >= 400, $"{method} {path}: {response.Status} {response.Body}");
            Assert.DoesNotContain(ArtifactPortal.Secret, response.Body);
        }
        fixture.AssertOutsideUntouched();
        AssertNothingStored(run);
    }

    [Fact]
    public async Task PlantedFolderLink_UploadAndDownloadThroughIt_Are400AndTouchNothing()
    {
        var run = await fixture.CreateRunAsync();
        await PutAsync(run, "first.txt", "make the folder"u8.ToArray());
        File.CreateSymbolicLink(Path.Combine(fixture.ArtifactsFolder(run), "evil"), fixture.Outside);

        AssertProblem(await RawAsync("PUT", Target(run, "evil/sentinel.txt"), "overwritten"u8.ToArray()), 400, "upload through a link", "symbolic link");
        AssertProblem(await RawAsync("PUT", Target(run, "evil/marker/x.txt"), "created"u8.ToArray()), 400, "create through a link", "symbolic link");
        var read = await RawAsync("GET", Target(run, "evil/sentinel.txt"));
        AssertProblem(read, 400, "download through a link", "symbolic link");
        Assert.DoesNotContain(ArtifactPortal.Secret, read.Body);

        fixture.AssertOutsideUntouched();
        Assert.Equal(["first.txt"], (await ListAsync(run)).Select(a => a.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task PlantedFileLink_UploadAndDownloadThroughIt_Are400()
    {
        var run = await fixture.CreateRunAsync();
        await PutAsync(run, "first.txt", "make the folder"u8.ToArray());
        File.CreateSymbolicLink(Path.Combine(fixture.ArtifactsFolder(run), "link.txt"), fixture.Sentinel);

        AssertProblem(await RawAsync("PUT", Target(run, "link.txt"), "overwritten"u8.ToArray()), 400, "upload onto a link", "symbolic link");
        var read = await RawAsync("GET", Target(run, "link.txt"));
        AssertProblem(read, 400, "download a link", "symbolic link");
        Assert.DoesNotContain(ArtifactPortal.Secret, read.Body);
        fixture.AssertOutsideUntouched();
    }

    [Fact]
    public async Task UploadListDownloadOverwrite_RoundTripsBytesSizesAndHashes()
    {
        var run = await fixture.CreateRunAsync();
        var weights = RandomNumberGenerator.GetBytes(100_000);
        var plot = RandomNumberGenerator.GetBytes(1234);
        var notes = "ünïcode notes"u8.ToArray();

        var created = await PutAsync(run, "model/weights.bin", weights);
        Assert.Equal("model/weights.bin", created.GetProperty("path").GetString());
        Assert.Equal(weights.Length, created.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(Sha256(weights), created.GetProperty("sha256").GetString());
        await PutAsync(run, "plots/loss curve.png", plot);
        await PutAsync(run, "ünïcode/ok.txt", notes);
        await PutAsync(run, "notes.txt", notes); // one segment: this route, not the worker's checkpoint|model

        var listed = await ListAsync(run);
        Assert.Equal(["model/weights.bin", "notes.txt", "plots/loss curve.png", "ünïcode/ok.txt"], listed.Select(a => a.GetProperty("path").GetString()));
        var byPath = listed.ToDictionary(a => a.GetProperty("path").GetString()!);
        Assert.Equal(plot.Length, byPath["plots/loss curve.png"].GetProperty("sizeBytes").GetInt64());
        Assert.Equal(Sha256(plot), byPath["plots/loss curve.png"].GetProperty("sha256").GetString());
        Assert.Equal(Sha256(notes), byPath["ünïcode/ok.txt"].GetProperty("sha256").GetString());
        Assert.Equal(["plots/loss curve.png"], (await ListAsync(run, "plots/")).Select(a => a.GetProperty("path").GetString()));
        Assert.Empty(await ListAsync(run, "Plots/")); // prefixes are case-sensitive, like the paths

        using (var download = await Portal.Http.GetAsync(Url(run, "plots/loss curve.png")))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
            Assert.Equal("loss curve.png", download.Content.Headers.ContentDisposition?.FileNameStar ?? download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            Assert.Equal(plot, await download.Content.ReadAsByteArrayAsync());
        }
        Assert.Equal(notes, await Portal.Http.GetByteArrayAsync(Url(run, "ünïcode/ok.txt")));

        // A second upload of a path is its new version: the list and the bytes follow it.
        var newer = RandomNumberGenerator.GetBytes(777);
        var replaced = await PutAsync(run, "model/weights.bin", newer);
        Assert.Equal(Sha256(newer), replaced.GetProperty("sha256").GetString());
        var again = (await ListAsync(run, "model/")).Single();
        Assert.Equal(777, again.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(Sha256(newer), again.GetProperty("sha256").GetString());
        Assert.Equal(newer, await Portal.Http.GetByteArrayAsync(Url(run, "model/weights.bin")));
        Assert.Empty(Directory.GetFiles(Path.Combine(fixture.ArtifactsFolder(run), ".modelops", "tmp")));
    }

    [Fact]
    public async Task Errors_AreProblemDetails_MissingFolderTooLargeUnknownRun()
    {
        var run = await fixture.CreateRunAsync();
        await PutAsync(run, "plots/a.png", [1, 2, 3]);

        AssertProblem(await RawAsync("GET", Target(run, "plots/missing.png")), 404, "missing artifact");
        AssertProblem(await RawAsync("GET", Target(run, "plots")), 404, "a folder", "folder");
        AssertProblem(await RawAsync("PUT", Target(run, "plots"), [1]), 409, "file over a folder");
        AssertProblem(await RawAsync("PUT", Target(run, "plots/a.png/b.png"), [1]), 409, "folder under a file");
        AssertProblem(await RawAsync("PUT", Target(run, "big.bin"), new byte[ArtifactPortal.MaxUploadBytes + 1]), 413, "too large");
        AssertProblem(await RawAsync("PUT", Target(run, "big-chunked.bin"), new byte[ArtifactPortal.MaxUploadBytes + 1], chunked: true), 413, "too large, chunked");
        AssertProblem(await RawAsync("PUT", "/api/v1/runs/999999/artifacts/x.txt", [1]), 404, "unknown run");
        AssertProblem(await RawAsync("GET", "/api/v1/runs/999999/artifacts"), 404, "unknown run list");

        Assert.Equal(["plots/a.png"], (await ListAsync(run)).Select(a => a.GetProperty("path").GetString()));
        Assert.Empty(Directory.GetFiles(Path.Combine(fixture.ArtifactsFolder(run), ".modelops", "tmp")));
    }

    // ---- helpers ----

    private string Target(int run, string path) =>
        $"/api/v1/runs/{run}/artifacts/" + path.Replace("{o}", fixture.OutsideName).Replace("{id}", run.ToString());

    private static string Url(int run, string path) =>
        $"/api/v1/runs/{run}/artifacts/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}";

    private async Task<JsonElement> PutAsync(int run, string path, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await Portal.Http.PutAsync(Url(run, path), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"PUT {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<List<JsonElement>> ListAsync(int run, string? prefix = null)
    {
        var query = prefix is null ? "" : "?prefix=" + Uri.EscapeDataString(prefix);
        var body = await Portal.Http.GetStringAsync($"/api/v1/runs/{run}/artifacts{query}");
        return JsonDocument.Parse(body).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private void AssertNothingStored(int run)
    {
        var folder = fixture.ArtifactsFolder(run);
        var files = Directory.Exists(folder)
            ? Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f)).ToList()
            : [];
        Assert.All(files, f => Assert.StartsWith(".modelops", f));
        Assert.All(files, f => Assert.False(File.Exists(Path.Combine(folder, f)), $"left behind: {f}"));
        var runFolder = Path.GetDirectoryName(folder)!;
        if (Directory.Exists(runFolder))
            Assert.All(Directory.GetFileSystemEntries(runFolder), e => Assert.Equal("artifacts", Path.GetFileName(e)));
    }

    private static void AssertProblem(RawResponse response, int status, string name, string? detailContains = null, string? field = null)
    {
        Assert.True(response.Status == status, $"{name}: expected {status}, got {response.Status}: {response.Head}\n{response.Body}");
        Assert.True(response.ContentType?.StartsWith("application/problem+json", StringComparison.Ordinal) == true,
            $"{name}: expected ProblemDetails, got '{response.ContentType}': {response.Body}");
        var problem = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        if (detailContains is not null) Assert.Contains(detailContains, problem.GetProperty("detail").GetString());
        // The field names the part of the request at fault: "path" is the artifacts route's own refusal.
        if (field is not null) Assert.Equal(field, problem.TryGetProperty("field", out var f) ? f.GetString() : null);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private sealed record RawResponse(int Status, string Head, string? ContentType, string Body);

    /// <summary>One HTTP/1.1 request with the target sent byte for byte as written.</summary>
    private async Task<RawResponse> RawAsync(string method, string target, byte[]? body = null, bool chunked = false)
    {
        var uri = new Uri(Portal.BaseUrl);
        using var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port);
        await using var stream = client.GetStream();
        var head = new StringBuilder()
            .Append($"{method} {target} HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: close\r\n")
            .Append($"Authorization: Bearer {Portal.AdminToken}\r\n");
        if (body is not null)
            head.Append("Content-Type: application/octet-stream\r\n").Append(chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {body.Length}\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        try
        {
            if (body is not null && !chunked)
                await stream.WriteAsync(body);
            else if (body is not null)
            {
                foreach (var piece in body.Chunk(16 * 1024))
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"{piece.Length:x}\r\n"));
                    await stream.WriteAsync(piece);
                    await stream.WriteAsync("\r\n"u8.ToArray());
                }
                await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
            }
        }
        catch (IOException)
        {
            // The portal may answer (a 413, a 400) and close before the whole body is sent.
        }
        using var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received);
        }
        catch (IOException)
        {
            // A reset after the response was sent.
        }
        return Parse(received.ToArray());
    }

    private static RawResponse Parse(byte[] raw)
    {
        var split = raw.AsSpan().IndexOf("\r\n\r\n"u8);
        Assert.True(split > 0, $"No HTTP response: '{Encoding.UTF8.GetString(raw)}'");
        var head = Encoding.ASCII.GetString(raw, 0, split);
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1]);
        string? Header(string name) => lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            .Select(p => p[1].Trim()).FirstOrDefault();
        var body = raw.AsSpan(split + 4).ToArray();
        if (Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
            body = Unchunk(body);
        return new RawResponse(status, head, Header("Content-Type"), Encoding.UTF8.GetString(body));
    }

    private static byte[] Unchunk(byte[] body)
    {
        using var result = new MemoryStream();
        var at = 0;
        while (at < body.Length)
        {
            var end = body.AsSpan(at).IndexOf("\r\n"u8);
            if (end < 0) break;
            var size = Convert.ToInt32(Encoding.ASCII.GetString(body, at, end).Split(';')[0], 16);
            if (size == 0) break;
            var start = at + end + 2;
            result.Write(body, start, Math.Min(size, body.Length - start));
            at = start + size + 2;
        }
        return result.ToArray();
    }
}
