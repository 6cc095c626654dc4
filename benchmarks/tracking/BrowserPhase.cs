using Microsoft.Playwright;

namespace ModelOps.Benchmarks.Tracking;

public sealed record BrowserResult(string Page, string? NotMeasured, IReadOnlyList<double> Ms)
{
    public double Median => Stats.Median(Ms);
}

/// <summary>
/// Phase 5: Debian's Chromium through Playwright (launched as tests/Browser.Tests does). Time is
/// navigation start to the page's "done" condition, read as performance.now() in the page, whose
/// origin is the navigation start. The experiments page is done when a row of the runs table is visible
/// (the MudDataGrid's rows carry the class run-row); the compare page when every chart is drawn: each
/// PortalChart wrapper (.portal-chart) says data-chart-ready="true" once plotly has drawn its figure, and
/// the curves chart (data-testid=curves-plot) exists only once the curves are read. A page whose
/// condition never holds is "not measured". The measure's name carries the load average before and
/// after the page's loads (/proc/loadavg, 1 minute), since other work on the machine moves these figures.
/// </summary>
public sealed class BrowserPhase(BenchOptions options, string baseUrl)
{
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(60);

    /// <summary>A row of the runs table is on screen (laid out, not hidden).</summary>
    private const string ExperimentsDone =
        "() => { const r = document.querySelector('[data-testid=runs-grid] tr.run-row'); return !!r && r.getClientRects().length > 0 && getComputedStyle(r).visibility !== 'hidden'; }";

    /// <summary>The curves chart exists and every chart on the page (curves, parallel coordinates, scatter) has drawn.</summary>
    private const string CompareDone =
        "() => { const c = [...document.querySelectorAll('.portal-chart')]; return !!document.querySelector('[data-testid=curves-plot]') && c.length >= 3 && c.every(e => e.dataset.chartReady === 'true'); }";

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    public async Task<IReadOnlyList<BrowserResult>> RunAsync(int experimentId, IReadOnlyList<int> runIds)
    {
        var compareIds = string.Join(',', runIds.Take(100));
        var pages = new[]
        {
            ("experiments page, first screen of rows", $"/experiments?experiment={experimentId}", ExperimentsDone),
            ($"compare page, {Math.Min(100, runIds.Count)} runs, every chart drawn", $"/compare?runs={compareIds}", CompareDone),
        };
        await using var chromium = await Chromium.LaunchAsync();
        var browser = chromium.Browser;
        var results = new List<BrowserResult>();
        foreach (var (name, url, done) in pages)
        {
            var loadBefore = LoadAverage();
            var times = new List<double>();
            string? notMeasured = null;
            // One untimed load first (a fresh context each time, so no page is served from the browser's cache).
            for (var i = 0; i <= options.BrowserReps && notMeasured is null; i++)
            {
                await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
                {
                    BaseURL = baseUrl,
                    ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
                });
                var page = await context.NewPageAsync();
                try
                {
                    var response = await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Commit, Timeout = (float)Probe.TotalMilliseconds });
                    if (response is { Ok: false })
                    {
                        notMeasured = $"not measured: page not available ({url.Split('?')[0]} answered {response.Status})";
                        break;
                    }
                    // Polled on every animation frame, so the time is that of the first frame that shows it.
                    await page.WaitForFunctionAsync(done, null, new PageWaitForFunctionOptions { Timeout = (float)Probe.TotalMilliseconds });
                    var ms = await page.EvaluateAsync<double>("() => performance.now()");
                    if (i > 0) times.Add(ms);
                    // What the page says its server side took, to tell server time from drawing time.
                    if (i == 0 && await page.Locator("[data-testid=compare-timing]").CountAsync() > 0)
                        Console.WriteLine($"[browser] {name}: the page reports {await page.Locator("[data-testid=compare-timing]").InnerTextAsync()}");
                }
                catch (TimeoutException)
                {
                    notMeasured = $"not measured: page not available (not done on {url.Split('?')[0]} within {Probe.TotalSeconds:0}s)";
                }
                catch (PlaywrightException e) when (e.Message.StartsWith("net::ERR_HTTP_RESPONSE_CODE_FAILURE", StringComparison.Ordinal))
                {
                    notMeasured = $"not measured: page not available ({url.Split('?')[0]} answered an HTTP error)";
                }
            }
            var load = $"load average {loadBefore} → {LoadAverage()}";
            Console.WriteLine(notMeasured is null
                ? $"[browser] {name}: median {Stats.Median(times):0} ms of {times.Count} ({string.Join(", ", times.Select(t => t.ToString("0")))}); {load}"
                : $"[browser] {name}: {notMeasured}; {load}");
            results.Add(new BrowserResult($"{name}; {load}", notMeasured, times));
        }
        return results;
    }
}
