using System.Diagnostics;
using System.Text;
using Microsoft.Playwright;

namespace ModelOps.Benchmarks.Tracking;

/// <summary>What the run page phase measured; a null figure was not measured (the reason is in NotMeasured).</summary>
public sealed record RunPageResult(
    string? NotMeasured, IReadOnlyList<double> LiveP95Ms, IReadOnlyList<double> LiveMs,
    IReadOnlyList<double> LoadMs, IReadOnlyList<double> WorstFrameMs, int PointsShipped, string LoadAverage)
{
    public void AddTo(Report report)
    {
        report.Info("run page phase: load average (1, 5, 15 min) at its start", LoadAverage);
        if (NotMeasured is { } why)
        {
            report.NotMeasured("run page: logged point to plotted, p95", why, "<= 1,000 ms");
            report.NotMeasured("run page, 10 curves x 100,000 steps: load until every chart is drawn", why, "<= 1,500 ms");
            report.NotMeasured("run page, 10 curves x 100,000 steps: longest frame after load", why, "<= 200 ms");
            return;
        }
        report.AtMost($"run page: logged point to plotted, p95 (median of {LiveP95Ms.Count} pages, {LiveMs.Count} points)", Stats.Median(LiveP95Ms), 1000, "ms");
        report.Info("run page: logged point to plotted, p50 / max over all points", $"{Stats.Percentile(LiveMs, 50):0} / {LiveMs.Max():0} ms");
        report.AtMost($"run page, 10 curves x 100,000 steps: load until every chart is drawn (median of {LoadMs.Count})", Stats.Median(LoadMs), 1500, "ms");
        report.AtMost($"run page, 10 curves x 100,000 steps: longest long task in the 3 s after load (median of {WorstFrameMs.Count})", Stats.Median(WorstFrameMs), 200, "ms");
        report.Info("run page, 10 curves x 100,000 steps: points shipped to the page", $"{PointsShipped:N0} of 1,000,000 (downsampled on the server)");
    }
}

/// <summary>
/// The run page in Debian's Chromium through Playwright, launched as <see cref="BrowserPhase"/> does.
/// (a) A tracked run's page is open; one point is logged through the API; the time until plotly's own data
/// in the page holds it (the chart's .js-plotly-plot element's data[0].x) is one sample. (b) A run with 10
/// metrics of 100,000 steps each (logged through log-batch): navigation start to every chart drawn
/// (data-chart-ready), then the longest 'longtask' a PerformanceObserver sees in the 3 s after.
/// </summary>
public sealed class RunPagePhase(BenchOptions options, string baseUrl, PortalApi api)
{
    private const int LivePointsPerPage = 20;
    private const int Curves = 10;
    private const int Steps = 100_000;
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(60);

    /// <summary>Every long task from the page's start, with its start time, for the observer to read after load.</summary>
    private const string LongTaskObserver = """
        window.__longtasks = [];
        try {
            new PerformanceObserver(list => { for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration }); })
                .observe({ type: 'longtask', buffered: true });
        } catch (e) { window.__longtasks = null; }
        """;

    public async Task<RunPageResult> RunAsync()
    {
        var load = File.ReadAllText("/proc/loadavg").Trim();
        var reps = Math.Max(1, options.BrowserReps);
        var experiment = (await api.CreateExperimentAsync($"run-page-bench-{Guid.NewGuid():N}")).GetProperty("id").GetInt32();
        var liveRun = await CreateRunAsync(experiment, "live");
        await LogAsync(liveRun, Enumerable.Range(1, 10).Select(s => ("loss", 1.0 / s, (long)s)));
        var clock = Stopwatch.StartNew();
        var longRun = await CreateRunAsync(experiment, "long");
        await LogLongRunAsync(longRun);
        Console.WriteLine($"[run page] logged {Curves} x {Steps:N0} points to run {longRun} in {clock.Elapsed.TotalSeconds:0.0} s");

        await using var chromium = await Chromium.LaunchAsync();
        var browser = chromium.Browser;
        try
        {
            // (a) live points: one page per repetition, a point at a time.
            var p95s = new List<double>();
            var all = new List<double>();
            var step = 10L;
            for (var rep = 0; rep <= reps; rep++)
            {
                await using var context = await NewContextAsync(browser);
                var page = await context.NewPageAsync();
                await page.GotoAsync($"/runs/{liveRun}", new PageGotoOptions { WaitUntil = WaitUntilState.Commit, Timeout = (float)Probe.TotalMilliseconds });
                await page.Locator("[data-testid=metric-chart-loss][data-chart-ready=true]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached, Timeout = (float)Probe.TotalMilliseconds });
                var samples = new List<double>();
                for (var i = 0; i < LivePointsPerPage; i++)
                {
                    step++;
                    var shown = await page.EvaluateAsync<int>(PlottedCount("loss"));
                    var watch = Stopwatch.StartNew();
                    await LogAsync(liveRun, [("loss", 1.0 / step, step)]);
                    await page.WaitForFunctionAsync($"n => ({PlottedCount("loss")})() > n", shown,
                        new PageWaitForFunctionOptions { PollingInterval = 5, Timeout = 30_000 });
                    samples.Add(watch.Elapsed.TotalMilliseconds);
                    await Task.Delay(50);
                }
                // The first page warms the portal and the browser's plotly up; it is not counted.
                if (rep == 0) continue;
                p95s.Add(Stats.Percentile(samples, 95));
                all.AddRange(samples);
                Console.WriteLine($"[run page] live point p95 {Stats.Percentile(samples, 95):0} ms (p50 {Stats.Median(samples):0}, max {samples.Max():0})");
            }

            // (b) the long run: load to every chart drawn, then the longest task after.
            var loads = new List<double>();
            var frames = new List<double>();
            var shipped = 0;
            for (var rep = 0; rep <= reps; rep++)
            {
                await using var context = await NewContextAsync(browser);
                await context.AddInitScriptAsync(LongTaskObserver);
                var page = await context.NewPageAsync();
                await page.GotoAsync($"/runs/{longRun}", new PageGotoOptions { WaitUntil = WaitUntilState.Commit, Timeout = (float)Probe.TotalMilliseconds });
                await page.WaitForFunctionAsync($"() => document.querySelectorAll('[data-testid^=metric-chart-][data-chart-ready=true]').length >= {Curves}", null,
                    new PageWaitForFunctionOptions { PollingInterval = 10, Timeout = (float)Probe.TotalMilliseconds });
                var loaded = await page.EvaluateAsync<double>("() => performance.now()");
                await page.WaitForTimeoutAsync(3000);
                var worst = await page.EvaluateAsync<double>("t => (window.__longtasks ?? []).filter(e => e.start >= t).reduce((m, e) => Math.max(m, e.duration), 0)", loaded);
                shipped = await page.EvaluateAsync<int>(
                    "() => [...document.querySelectorAll('[data-testid^=metric-chart-] .js-plotly-plot')].reduce((n, p) => n + (p.data?.[0]?.x?.length ?? 0), 0)");
                Console.WriteLine($"[run page] {Curves} x {Steps:N0}: drawn at {loaded:0} ms, longest task after {worst:0} ms, {shipped:N0} points in the page");
                if (rep == 0) continue;
                loads.Add(loaded);
                frames.Add(worst);
            }
            return new RunPageResult(null, p95s, all, loads, frames, shipped, load);
        }
        catch (Exception e) when (e is TimeoutException or PlaywrightException)
        {
            return new RunPageResult($"not measured: {e.Message.Split('\n')[0]}", [], [], [], [], 0, load);
        }
    }

    private static string PlottedCount(string key) =>
        $"() => document.querySelector('[data-testid=metric-chart-{key}] .js-plotly-plot')?.data?.[0]?.x?.length ?? -1";

    private Task<IBrowserContext> NewContextAsync(IBrowser browser) => browser.NewContextAsync(new BrowserNewContextOptions
    {
        BaseURL = baseUrl,
        ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
    });

    private async Task<int> CreateRunAsync(int experiment, string name)
    {
        using var response = await api.Http.PostAsync($"/api/v1/experiments/{experiment}/runs", PortalApi.Body($$"""{"name":"{{name}}"}"""));
        return (await PortalApi.ReadJsonAsync(response, "create run")).GetProperty("id").GetInt32();
    }

    private async Task LogAsync(int run, IEnumerable<(string Key, double Value, long Step)> points)
    {
        var json = new StringBuilder("{\"metrics\":[");
        var first = true;
        foreach (var (key, value, step) in points)
        {
            if (!first) json.Append(',');
            first = false;
            json.Append("{\"key\":\"").Append(key).Append("\",\"value\":").Append(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture))
                .Append(",\"step\":").Append(step).Append('}');
        }
        json.Append("]}");
        using var response = await api.Http.PostAsync($"/api/v1/runs/{run}/log-batch", PortalApi.Body(json.ToString()));
        if (!response.IsSuccessStatusCode) throw new BenchException($"log-batch: {(int)response.StatusCode} {PortalApi.Shorten(await response.Content.ReadAsStringAsync())}");
    }

    /// <summary>10 curves x 100,000 steps through the batch API, 1,000 points a call, a few calls in flight.</summary>
    private async Task LogLongRunAsync(int run)
    {
        var random = new Random(options.Seed);
        const int stepsPerBatch = 1000 / Curves;
        var batches = Enumerable.Range(0, Steps / stepsPerBatch).Select(b =>
        {
            var points = new List<(string, double, long)>(1000);
            for (var s = b * stepsPerBatch; s < (b + 1) * stepsPerBatch; s++)
                for (var c = 0; c < Curves; c++)
                    points.Add(($"curve_{c}", Math.Exp(-s / 20_000.0) * (1 + c) + random.NextDouble() * 0.05, s));
            return points;
        }).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency) },
            async (points, _) => await LogAsync(run, points));
    }
}
