using System.Diagnostics;
using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>
/// Debian's Chromium driven by Playwright against a running portal: one context with a desktop viewport, and
/// every page error, console error and HTTP error response collected for failure reports.
/// </summary>
internal sealed class BrowserSession : IAsyncDisposable
{
    private IPlaywright playwright = default!;
    private IBrowser browser = default!;

    public IPage Page { get; private set; } = default!;
    public List<string> Errors { get; } = [];

    /// <summary>A browser signed in through the login page as <paramref name="userName"/> (the first Admin unless named; null: not signed in).</summary>
    public static async Task<BrowserSession> StartAsync(string baseUrl, string? userName = PortalProcess.AdminName, string password = PortalProcess.AdminPassword)
    {
        // Offline: the driver ships in the package (.playwright next to the test assembly) and the
        // browser is Debian's; nothing may try to fetch a browser build.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_VALIDATE_HOST_REQUIREMENTS", "1");
        var session = new BrowserSession();
        session.playwright = await Playwright.CreateAsync();
        session.browser = await session.playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        var context = await session.browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
        });
        context.SetDefaultTimeout(30_000);
        var page = session.Page = await context.NewPageAsync();
        var errors = session.Errors;
        page.PageError += (_, e) => { lock (errors) errors.Add("pageerror: " + e); };
        page.Console += (_, m) => { if (m.Type == "error") lock (errors) errors.Add("console: " + m.Text); };
        page.Response += (_, r) => { if (r.Status >= 400) lock (errors) errors.Add($"HTTP {r.Status}: {r.Request.Method} {r.Url}"); };
        if (userName is not null) await session.SignInAsync(userName, password);
        return session;
    }

    /// <summary>Signs in with the static login form, as a person would, and waits for the page it returns to.</summary>
    public async Task SignInAsync(string userName, string password, string returnUrl = "/")
    {
        await Page.GotoAsync($"/login?returnUrl={Uri.EscapeDataString(returnUrl)}");
        await Page.GetByTestId("login-user").FillAsync(userName);
        await Page.GetByTestId("login-password").FillAsync(password);
        await Page.GetByTestId("login-submit").ClickAsync();
        await Page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal), new PageWaitForURLOptions { Timeout = 30_000 });
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}

/// <summary>Steps with the page, the portal's log and a screenshot attached to any failure.</summary>
internal sealed class Journey(IPage page, PortalProcess portal, ITestOutputHelper output, List<string> browserErrors)
{
    public async Task Step(string name, Func<Task> body) => await Step(name, async () => { await body(); return true; });

    public async Task<T> Step<T>(string name, Func<Task<T>> body)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var result = await body();
            output.WriteLine($"[{watch.Elapsed.TotalSeconds,5:0.0}s] {name}");
            return result;
        }
        catch (Exception ex)
        {
            var shot = Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots", "failure.png");
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
            }
            catch (PlaywrightException)
            {
                shot = "(none)";
            }
            string errors;
            lock (browserErrors) errors = string.Join("\n", browserErrors.TakeLast(20));
            throw new Xunit.Sdk.XunitException(
                $"Step '{name}' failed after {watch.Elapsed.TotalSeconds:0.0}s at {page.Url}: {ex.GetType().Name}: {ex.Message}\n" +
                $"screenshot: {shot}\n--- browser errors ---\n{errors}\n--- portal log (tail) ---\n{Tail(portal.Log, 6000)}\n--- stack ---\n{ex.StackTrace}");
        }
    }

    /// <summary>
    /// Loads a page and waits for the interactive render: the prerendered HTML has no element
    /// references, the circuit's first render adds them (as _bl_ attributes).
    /// </summary>
    public async Task OpenAsync(string path)
    {
        await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.NetworkIdle, Timeout = 60_000 });
        await page.WaitForFunctionAsync(
            "() => window.Blazor !== undefined && [...document.querySelectorAll('[data-testid]')].some(e => e.getAttributeNames().some(n => n.startsWith('_bl_')))",
            null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 100 });
        // Components hook up their JS (InputFile, MudBlazor) right after that render.
        await page.WaitForTimeoutAsync(500);
    }

    /// <summary>
    /// Chooses the file in the CSV form; the Upload button enables only once the server saw the
    /// choice. Chooses a fresh copy again until it does (the same file twice raises no change event).
    /// </summary>
    public async Task ChooseCsvAsync(string path)
    {
        var submit = page.GetByTestId("csv-submit");
        var chosen = path;
        for (var attempt = 1; ; attempt++)
        {
            await page.GetByTestId("csv-file").SetInputFilesAsync(chosen);
            try
            {
                await Assertions.Expect(submit).ToBeEnabledAsync(new LocatorAssertionsToBeEnabledOptions { Timeout = 5_000 });
                return;
            }
            catch (PlaywrightException) when (attempt < 6)
            {
                output.WriteLine($"The Upload button is still disabled after choosing the file (attempt {attempt}); choosing a copy.");
                var folder = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(path)!, $"retry-{attempt}")).FullName;
                chosen = Path.Combine(folder, Path.GetFileName(path));
                File.Copy(path, chosen, overwrite: true);
            }
        }
    }

    /// <summary>
    /// A full-page screenshot of the whole content: the viewport is made as tall as the document
    /// (the app bar is fixed, so a scrolled full-page shot would repeat it).
    /// </summary>
    public async Task ScreenshotWholePageAsync(string path)
    {
        var viewport = page.ViewportSize!;
        var height = await page.EvaluateAsync<int>(
            "() => document.documentElement.scrollHeight");
        var tall = Math.Clamp(height, viewport.Height, 4000);
        if (tall > viewport.Height)
        {
            await page.SetViewportSizeAsync(viewport.Width, tall);
            await page.WaitForTimeoutAsync(300);
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        if (tall > viewport.Height) await page.SetViewportSizeAsync(viewport.Width, viewport.Height);
    }

    /// <summary>Types into a text or numeric field and leaves it, so Blazor's change binding fires.</summary>
    public async Task FillAsync(string testId, string value)
    {
        var input = await InputOf(testId);
        await input.FillAsync(value);
        await input.PressAsync("Tab");
        await Assertions.Expect(input).ToHaveValueAsync(value);
    }

    /// <summary>Clicks until the expected element shows (a click before the circuit is live does nothing).</summary>
    public async Task ClickUntilAsync(string testId, ILocator expected)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await page.GetByTestId(testId).ClickAsync(new LocatorClickOptions { Timeout = 10_000 });
            }
            catch (TimeoutException) when (attempt < 4)
            {
                // Disabled while a previous click is being handled: look for its effect below.
            }
            try
            {
                await Assertions.Expect(expected).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 10_000 });
                return;
            }
            catch (PlaywrightException) when (attempt < 4)
            {
                output.WriteLine($"Clicking {testId} showed nothing yet (attempt {attempt}); clicking again.");
            }
        }
    }

    private async Task<ILocator> InputOf(string testId)
    {
        var element = page.GetByTestId(testId);
        await element.WaitForAsync();
        var tag = await element.EvaluateAsync<string>("e => e.tagName");
        return tag is "INPUT" or "TEXTAREA" ? element : element.Locator("input").First;
    }

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];
}
