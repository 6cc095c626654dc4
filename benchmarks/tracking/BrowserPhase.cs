using Microsoft.Playwright;

namespace ModelOps.Benchmarks.Tracking;

public sealed record BrowserResult(string Page, string? NotMeasured, IReadOnlyList<double> Ms)
{
    public double Median => Stats.Median(Ms);
}

/// <summary>
/// Phase 5: Debian's Chromium through Playwright (launched as tests/Browser.Tests does). Time is
/// navigation start to the selector being visible, read as performance.now() in the page, whose
/// origin is the navigation start. A page whose selector never appears is "not measured".
/// </summary>
public sealed class BrowserPhase(BenchOptions options, string baseUrl)
{
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(20);

    public async Task<IReadOnlyList<BrowserResult>> RunAsync(int experimentId, IReadOnlyList<int> runIds)
    {
        var compareIds = string.Join(',', runIds.Take(100));
        var pages = new[]
        {
            ("experiments page, first screen", $"/experiments?experiment={experimentId}", "[data-testid=run-row]"),
            ($"compare page, {Math.Min(100, runIds.Count)} runs", $"/compare?runs={compareIds}", "[data-testid=compare-ready]"),
        };
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_VALIDATE_HOST_REQUIREMENTS", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        var results = new List<BrowserResult>();
        foreach (var (name, url, selector) in pages)
        {
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
                    await page.Locator(selector).First.WaitForAsync(new LocatorWaitForOptions
                    {
                        State = selector.Contains("compare-ready", StringComparison.Ordinal) ? WaitForSelectorState.Attached : WaitForSelectorState.Visible, Timeout = (float)Probe.TotalMilliseconds,
                    });
                    var ms = await page.EvaluateAsync<double>("() => performance.now()");
                    if (i > 0) times.Add(ms);
                    // What the page says its server side took, to tell server time from drawing time.
                    if (i == 0 && await page.Locator("[data-testid=compare-timing]").CountAsync() > 0)
                        Console.WriteLine($"[browser] {name}: the page reports {await page.Locator("[data-testid=compare-timing]").InnerTextAsync()}");
                }
                catch (TimeoutException)
                {
                    notMeasured = $"not measured: page not available ({selector} did not appear on {url.Split('?')[0]} within {Probe.TotalSeconds:0}s)";
                }
                catch (PlaywrightException e) when (e.Message.StartsWith("net::ERR_HTTP_RESPONSE_CODE_FAILURE", StringComparison.Ordinal))
                {
                    notMeasured = $"not measured: page not available ({url.Split('?')[0]} answered an HTTP error)";
                }
            }
            Console.WriteLine(notMeasured is null
                ? $"[browser] {name}: median {Stats.Median(times):0} ms of {times.Count} ({string.Join(", ", times.Select(t => t.ToString("0")))})"
                : $"[browser] {name}: {notMeasured}");
            results.Add(new BrowserResult(name, notMeasured, times));
        }
        return results;
    }
}
