using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ModelOps.Benchmarks.Tracking;

/// <summary>One HttpClient for the whole bench, with enough connections for the requests in flight.</summary>
public sealed class PortalApi : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    public HttpClient Http { get; }

    public PortalApi(string baseUrl, int connections)
    {
        Http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
        })
        { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(2) };
    }

    public static HttpContent Body(ReadOnlyMemory<byte> utf8) => new ReadOnlyMemoryContent(utf8) { Headers = { ContentType = Json } };

    public static HttpContent Body(string json) => Body(Encoding.UTF8.GetBytes(json));

    public async Task<JsonElement> CreateExperimentAsync(string name)
    {
        using var response = await Http.PostAsync("/api/v1/experiments", Body(JsonSerializer.Serialize(new { name, description = "benchmarks/tracking" })));
        return await ReadJsonAsync(response, "create experiment");
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new BenchException($"{what}: {(int)response.StatusCode} {Shorten(text)}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Wall time of one request, from before sending to the last byte of the body, plus the Server-Timing figure if any.</summary>
    public async Task<(HttpStatusCode Status, string Body, double WallMs, double? ServerMs)> TimeAsync(Func<HttpRequestMessage> request)
    {
        using var message = request();
        var clock = Stopwatch.StartNew();
        using var response = await Http.SendAsync(message, HttpCompletionOption.ResponseContentRead);
        var body = await response.Content.ReadAsStringAsync();
        var wall = clock.Elapsed.TotalMilliseconds;
        return (response.StatusCode, body, wall, ServerTiming(response));
    }

    /// <summary>"Server-Timing: db;dur=3.1, total;dur=12.4": the entry named total (or app), else the largest.</summary>
    public static double? ServerTiming(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Server-Timing", out var values)) return null;
        double? best = null, named = null;
        foreach (var entry in values.SelectMany(v => v.Split(',')))
        {
            var parts = entry.Split(';', StringSplitOptions.TrimEntries);
            var dur = parts.Skip(1).FirstOrDefault(p => p.StartsWith("dur=", StringComparison.OrdinalIgnoreCase));
            if (dur is null || !double.TryParse(dur[4..], System.Globalization.CultureInfo.InvariantCulture, out var ms)) continue;
            if (parts[0] is "total" or "app") named = ms;
            best = Math.Max(best ?? 0, ms);
        }
        return named ?? best;
    }

    public static string Shorten(string s) => s.Length <= 400 ? s : s[..400] + "...";

    public void Dispose() => Http.Dispose();
}

public sealed class BenchException(string message) : Exception(message);
