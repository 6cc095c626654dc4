using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>The app bar's choices in a real Chromium: dark mode and the language are remembered across reloads.</summary>
public sealed class ShellTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Dark_mode_and_the_language_are_remembered_by_the_browser()
    {
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        await using var browser = await BrowserSession.StartAsync(portal.BaseUrl);
        var page = browser.Page;
        var journey = new Journey(page, portal, output, browser.Errors);
        var nav = page.GetByTestId("nav");

        var lightBackground = await journey.Step("the first visit is English and light", async () =>
        {
            await journey.OpenAsync("/");
            await Assertions.Expect(nav).ToContainTextAsync("Datasets");
            await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "en");
            return await Background(page);
        });

        await journey.Step("dark mode switches at once and survives a reload", async () =>
        {
            await page.GetByTestId("theme-toggle").ClickAsync();
            await Assertions.Expect(page.Locator("body")).ToHaveClassAsync("portal-dark");
            await page.WaitForFunctionAsync(BackgroundScript + $" !== '{lightBackground}'");
            var dark = await Background(page);
            await journey.OpenAsync("/datasets");
            await Assertions.Expect(page.Locator("body")).ToHaveClassAsync("portal-dark");
            Assert.Equal(dark, await Background(page));
            Assert.NotEqual(lightBackground, dark);
        });

        await journey.Step("choosing 简体中文 reloads the same page in Chinese, and it stays Chinese", async () =>
        {
            await page.GetByTestId("language-menu").ClickAsync();
            await page.GetByTestId("language-zh-CN").ClickAsync();
            await page.WaitForURLAsync("**/datasets");
            await Assertions.Expect(nav).ToContainTextAsync("数据集");
            await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");
            await journey.OpenAsync("/");
            await Assertions.Expect(nav).ToContainTextAsync("作业队列");
            Assert.DoesNotContain("Datasets", await nav.InnerTextAsync());
            var shots = Directory.CreateDirectory(Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots")).FullName;
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "shell-zh-dark.png") });
        });

        await journey.Step("an address outside the portal is never followed", async () =>
        {
            var response = await page.APIRequest.GetAsync("/ui/culture?culture=en&redirect=//evil.example/",
                new APIRequestContextOptions { MaxRedirects = 0 });
            Assert.Equal(302, response.Status);
            Assert.Equal("/", response.Headers["location"]);
            var bad = await page.APIRequest.GetAsync("/ui/culture?culture=xx-YY");
            Assert.Equal(400, bad.Status);
            Assert.StartsWith("application/problem+json", bad.Headers["content-type"]);
            Assert.Contains("The language must be one of en, zh-CN.", await bad.TextAsync());
            lock (browser.Errors) browser.Errors.Clear();
        });
    }

    /// <summary>The theme's page background, as MudBlazor's palette sets it.</summary>
    private const string BackgroundScript = "() => getComputedStyle(document.documentElement).getPropertyValue('--mud-palette-background').trim()";

    private static Task<string> Background(IPage page) => page.EvaluateAsync<string>(BackgroundScript);
}
