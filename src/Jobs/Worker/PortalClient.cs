using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ModelOps.Jobs.Protocol;

namespace ModelOps.Jobs.Worker;

/// <summary>
/// The worker's side of the protocol. Transient failures (connection refused, 5xx, 429) are retried
/// with backoff for up to <see cref="GiveUpAfter"/>; a portal that stays away that long is gone, and
/// the worker stops rather than train for nobody.
/// </summary>
public sealed class PortalClient : IDisposable
{
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(60);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly int _runId;

    public PortalClient(string portalUrl, int runId, string token)
    {
        _runId = runId;
        _http = new HttpClient { BaseAddress = new Uri(portalUrl.TrimEnd('/') + "/api/v1/"), Timeout = TimeSpan.FromMinutes(5) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Task<RunSpec> GetSpecAsync(CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"runs/{_runId}/spec"), ReadAsync<RunSpec>, ct);

    public Task StartAsync(StartReport report, CancellationToken ct) => PostAsync($"runs/{_runId}/start", report, ct);

    public Task LogBatchAsync(LogBatch batch, CancellationToken ct) => PostAsync($"runs/{_runId}/log-batch", batch, ct);

    public Task<HeartbeatReply> HeartbeatAsync(Heartbeat heartbeat, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"runs/{_runId}/heartbeat") { Content = JsonContent.Create(heartbeat, options: Json) },
            ReadAsync<HeartbeatReply>, ct);

    public Task FinishAsync(FinishReport report, CancellationToken ct) => PostAsync($"runs/{_runId}/finish", report, ct);

    public Task UploadArtifactAsync(string artifact, string path, int? epoch, CancellationToken ct) =>
        SendAsync(() =>
        {
            var content = new StreamContent(File.OpenRead(path));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            var query = epoch is null ? "" : $"?epoch={epoch}";
            return new HttpRequestMessage(HttpMethod.Put, $"runs/{_runId}/{artifact}{query}") { Content = content };
        }, (_, _) => Task.FromResult(true), ct);

    /// <summary>PUT runs/{id}/artifacts/{path}: a file kept with the run through the tracking API, as any client keeps one.</summary>
    public Task UploadRunArtifactAsync(string artifactPath, string file, CancellationToken ct) =>
        SendAsync(() =>
        {
            var content = new StreamContent(File.OpenRead(file));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            return new HttpRequestMessage(HttpMethod.Put, $"runs/{_runId}/artifacts/{Uri.EscapeDataString(artifactPath)}") { Content = content };
        }, (_, _) => Task.FromResult(true), ct);

    public Task DownloadArtifactAsync(string artifact, string target, CancellationToken ct) =>
        DownloadAsync($"runs/{_runId}/{artifact}", target, ct);

    public Task DownloadDatasetFileAsync(DatasetSpec dataset, string name, string target, CancellationToken ct) =>
        DownloadAsync($"datasets/{dataset.DatasetId}/versions/{dataset.Version}/files/{Uri.EscapeDataString(name)}", target, ct);

    private Task DownloadAsync(string route, string target, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, route), async (response, token) =>
        {
            var partial = target + ".part";
            await using (var file = File.Create(partial))
                await response.Content.CopyToAsync(file, token);
            File.Move(partial, target, overwrite: true);
            return true;
        }, ct);

    private Task PostAsync<T>(string route, T body, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Post, route) { Content = JsonContent.Create(body, options: Json) },
            (_, _) => Task.FromResult(true), ct);

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct) =>
        await response.Content.ReadFromJsonAsync<T>(Json, ct) ?? throw new InvalidDataException("The portal sent an empty reply.");

    private async Task<T> SendAsync<T>(Func<HttpRequestMessage> request, Func<HttpResponseMessage, CancellationToken, Task<T>> read, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                using var message = request();
                using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
                if (response.IsSuccessStatusCode)
                    return await read(response, ct);
                if ((int)response.StatusCode < 500 && response.StatusCode != HttpStatusCode.TooManyRequests)
                {
                    var detail = await response.Content.ReadAsStringAsync(ct);
                    throw new PortalRejectedException(response.StatusCode, detail);
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow - started < GiveUpAfter)
            {
            }
            if (DateTime.UtcNow - started >= GiveUpAfter)
                throw new PortalUnreachableException($"The portal did not accept the request within {GiveUpAfter.TotalSeconds:0} s.");
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
        }
    }

    public void Dispose() => _http.Dispose();
}

public sealed class PortalRejectedException(HttpStatusCode status, string detail)
    : Exception($"The portal refused the request ({(int)status}): {detail}")
{
    public HttpStatusCode Status { get; } = status;
}

public sealed class PortalUnreachableException(string message) : Exception(message);
