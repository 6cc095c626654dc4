using System.Globalization;
using System.Net;
using System.Text.Json;

namespace ModelOps.Benchmarks.Tracking;

/// <summary>
/// Phases 2 and 3: one request at a time (latency, not throughput), after a few untimed warm-up
/// requests. Each answer is checked, so a fast wrong answer cannot pass.
/// </summary>
public sealed class QueryPhases(BenchOptions options, PortalApi api)
{
    private const int WarmUp = 3;
    private static readonly double[] Thresholds = [0.8, 0.85, 0.9, 0.7, 0.75];

    public async Task<LatencyResult> SearchAsync(int experimentId)
    {
        var probe = await api.TimeAsync(() => SearchRequest(experimentId, "adam", 0.8, null));
        if (probe.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            Console.WriteLine($"[search] not measured: POST /api/v1/runs/search answered {(int)probe.Status}");
            return LatencyResult.Skipped($"not measured: POST /api/v1/runs/search answered {(int)probe.Status} (endpoint not available)");
        }
        if (probe.Status != HttpStatusCode.OK) throw new BenchException($"search: {(int)probe.Status} {PortalApi.Shorten(probe.Body)}");
        for (var i = 1; i < WarmUp; i++) await api.TimeAsync(() => SearchRequest(experimentId, "adam", 0.8, null));

        var wall = new List<double>();
        var server = new List<double>();
        var totals = new SortedDictionary<string, long>(StringComparer.Ordinal);
        int pagesFollowed = 0, query = 0;
        while (wall.Count < options.SearchReps)
        {
            var threshold = Thresholds[query % Thresholds.Length];
            var optimizer = query % 7 == 6 ? "adamw" : "adam";
            var follow = query % 10 == 9 ? 4 : 0; // every tenth query pages on, up to four more pages
            query++;
            string? token = null;
            for (var page = 0; page <= follow && wall.Count < options.SearchReps; page++)
            {
                var r = await api.TimeAsync(() => SearchRequest(experimentId, optimizer, threshold, token));
                if (r.Status != HttpStatusCode.OK) throw new BenchException($"search: {(int)r.Status} {PortalApi.Shorten(r.Body)}");
                wall.Add(r.WallMs);
                if (r.ServerMs is { } s) server.Add(s);
                token = Check(r.Body, threshold, optimizer, out var total);
                totals[$"{optimizer} > {threshold.ToString(CultureInfo.InvariantCulture)}"] = total;
                if (page > 0) pagesFollowed++;
                if (token is null) break;
            }
        }
        var notes = $"{WarmUp} warm-up requests untimed; {pagesFollowed} of the {wall.Count} were follow-up pages; matches: "
            + string.Join(", ", totals.Select(t => $"{t.Key}: {t.Value:N0}"));
        Console.WriteLine($"[search] p50 {Stats.Percentile(wall, 50):0.0} ms, p95 {Stats.Percentile(wall, 95):0.0} ms over {wall.Count}; {notes}");
        return new LatencyResult(null, wall, server, notes);
    }

    private static HttpRequestMessage SearchRequest(int experimentId, string optimizer, double threshold, string? pageToken) =>
        new(HttpMethod.Post, "/api/v1/runs/search")
        {
            Content = PortalApi.Body(JsonSerializer.Serialize(new
            {
                experimentIds = new[] { experimentId },
                filter = $"params.optimizer = '{optimizer}' and metrics.val_accuracy > {threshold.ToString(CultureInfo.InvariantCulture)}",
                orderBy = new[] { "metrics.val_accuracy DESC" },
                maxResults = 50,
                pageToken,
            })),
        };

    /// <summary>Every run matches the filter and the page is in order; returns the next page token.</summary>
    private static string? Check(string body, double threshold, string optimizer, out long total)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        total = root.TryGetProperty("total", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt64() : -1;
        var previous = double.MaxValue;
        foreach (var run in root.GetProperty("runs").EnumerateArray())
        {
            var acc = run.GetProperty("metrics").GetProperty("val_accuracy").GetDouble();
            var opt = run.GetProperty("params").GetProperty("optimizer").GetString();
            if (acc <= threshold || opt != optimizer || acc > previous)
                throw new BenchException($"search returned run {run.GetProperty("id")} (optimizer {opt}, val_accuracy {acc}) for '{optimizer}' > {threshold}, after {previous}");
            previous = acc;
        }
        return root.TryGetProperty("nextPageToken", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
    }

    public async Task<LatencyResult> HistoryAsync(IReadOnlyList<int> longRuns)
    {
        if (longRuns.Count == 0) return LatencyResult.Skipped("not measured: no long runs (--long-runs 0)");
        var key = Workload.MetricKeys[0];
        string Url(int i) => $"/api/v1/runs/{longRuns[i % longRuns.Count]}/metrics/history?key={key}&maxPoints=1000";
        for (var i = 0; i < WarmUp; i++) await api.TimeAsync(() => new HttpRequestMessage(HttpMethod.Get, Url(i)));
        var wall = new List<double>();
        var server = new List<double>();
        long totalPoints = 0;
        for (var i = 0; i < options.HistoryReps; i++)
        {
            var r = await api.TimeAsync(() => new HttpRequestMessage(HttpMethod.Get, Url(i)));
            if (r.Status != HttpStatusCode.OK) throw new BenchException($"history: {(int)r.Status} {PortalApi.Shorten(r.Body)}");
            wall.Add(r.WallMs);
            if (r.ServerMs is { } s) server.Add(s);
            using var doc = JsonDocument.Parse(r.Body);
            totalPoints = doc.RootElement.GetProperty("totalPoints").GetInt64();
            var returned = doc.RootElement.GetProperty("points").GetArrayLength();
            if (returned > 1000 || (totalPoints > 1000 && returned != 1000))
                throw new BenchException($"history returned {returned} points of {totalPoints} for maxPoints=1000");
        }
        var notes = $"{WarmUp} warm-up requests untimed; {longRuns.Count} runs round-robin, {totalPoints:N0} points each reduced to 1,000 by LTTB";
        Console.WriteLine($"[history] p50 {Stats.Percentile(wall, 50):0.0} ms, p95 {Stats.Percentile(wall, 95):0.0} ms over {wall.Count}; {notes}");
        return new LatencyResult(null, wall, server, notes);
    }
}
