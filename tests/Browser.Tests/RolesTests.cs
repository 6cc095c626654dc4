using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>
/// Sign-in and roles in a real Chromium: each role signs in through the login page and sees what it may do.
/// A Viewer reads but has no write actions and no audit trail; an Editor stages a version but cannot
/// promote it; an Approver promotes it, and the audit trail names the Approver; a Viewer who forges the
/// promotion through the API is refused. An unsigned visit is sent to the login page.
/// </summary>
public sealed class RolesTests(ITestOutputHelper output)
{
    private const string ModelName = "roles-model";

    [Fact]
    public async Task Each_role_signs_in_and_may_do_what_its_role_allows_and_no_more()
    {
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false");
        foreach (var (name, role) in new[] { ("vera", "Viewer"), ("eddie", "Editor"), ("april", "Approver") })
        {
            (await portal.Http.PostAsJsonAsync("/api/v1/users", new { userName = name, password = name + "-password-1" })).EnsureSuccessStatusCode();
            (await portal.Http.PutAsJsonAsync($"/api/v1/teams/1/members/{name}", new { role })).EnsureSuccessStatusCode();
        }
        var run = await portal.StartMlpRunAsync(epochs: 2, rows: 300, dataset: "roles-data");
        await portal.WaitForRunAsync(run, r => r.GetProperty("status").GetString() is "Finished" or "Failed", TimeSpan.FromMinutes(3));
        (await portal.Http.PostAsJsonAsync($"/api/v1/models/{ModelName}/versions", new { runId = run })).EnsureSuccessStatusCode();

        await using (var anonymous = await BrowserSession.StartAsync(portal.BaseUrl, userName: null))
        {
            var journey = new Journey(anonymous.Page, portal, output, anonymous.Errors);
            await journey.Step("an unsigned visit goes to the login page and comes back after signing in", async () =>
            {
                await anonymous.Page.GotoAsync("/models");
                await Assertions.Expect(anonymous.Page.GetByTestId("login-form")).ToBeVisibleAsync();
                await anonymous.SignInAsync("vera", "vera-password-1", "/models");
                Assert.EndsWith("/models", anonymous.Page.Url);
            });
        }

        await using (var viewer = await BrowserSession.StartAsync(portal.BaseUrl, "vera", "vera-password-1"))
        {
            var page = viewer.Page;
            var journey = new Journey(page, portal, output, viewer.Errors);
            await journey.Step("a Viewer reads the model but has no stage action and no audit trail", async () =>
            {
                await journey.OpenAsync("/models");
                await Assertions.Expect(page.GetByTestId($"stage-{ModelName}-1")).ToHaveTextAsync("None");
                await CannotAsync(page.GetByTestId($"promote-{ModelName}-1"));
                await CannotAsync(page.GetByTestId($"staging-{ModelName}-1"));
                await Assertions.Expect(page.GetByTestId("nav")).Not.ToContainTextAsync("Audit");
                await Assertions.Expect(page.GetByTestId("user-menu")).ToBeVisibleAsync();
            });
            await journey.Step("a Viewer's forged promotion over the API is refused", async () =>
            {
                var token = await portal.TokenAsync("vera", "vera-password-1");
                using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
                http.DefaultRequestHeaders.Authorization = new("Bearer", token);
                using var forged = await http.PostAsJsonAsync($"/api/v1/models/{ModelName}/versions/1/stage", new { stage = "Production" });
                Assert.Equal(System.Net.HttpStatusCode.Forbidden, forged.StatusCode);
            });
            AssertNoErrors(viewer);
        }

        await using (var editor = await BrowserSession.StartAsync(portal.BaseUrl, "eddie", "eddie-password-1"))
        {
            var page = editor.Page;
            var journey = new Journey(page, portal, output, editor.Errors);
            await journey.Step("an Editor stages the version but cannot promote it to Production", async () =>
            {
                await journey.OpenAsync("/models");
                await CannotAsync(page.GetByTestId($"promote-{ModelName}-1"));
                await page.GetByTestId($"staging-{ModelName}-1").ClickAsync();
                await Assertions.Expect(page.GetByTestId($"stage-{ModelName}-1")).ToHaveTextAsync("Staging");
            });
            AssertNoErrors(editor);
        }

        await using (var approver = await BrowserSession.StartAsync(portal.BaseUrl, "april", "april-password-1"))
        {
            var page = approver.Page;
            var journey = new Journey(page, portal, output, approver.Errors);
            var dialog = page.Locator(".mud-dialog");
            await journey.Step("an Approver promotes it after confirming", async () =>
            {
                await journey.OpenAsync("/models");
                await journey.ClickUntilAsync($"promote-{ModelName}-1", dialog);
                await dialog.GetByRole(AriaRole.Button, new() { Name = "Promote to Production", Exact = true }).ClickAsync();
                await Assertions.Expect(page.GetByTestId($"stage-{ModelName}-1")).ToHaveTextAsync("Production");
            });
            await journey.Step("the audit trail names the Approver for the promotion", async () =>
            {
                await journey.OpenAsync("/audit");
                await Assertions.Expect(page.Locator("body")).ToContainTextAsync("april");
                await Assertions.Expect(page.Locator("body")).ToContainTextAsync("model.stage.changed");
                // For docs/identity.md: what a manager sees.
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots", "audit-page.png") });
            });
            await journey.Step("the Teams page lists the team's members and their roles", async () =>
            {
                await journey.OpenAsync("/teams");
                await Assertions.Expect(page.Locator("body")).ToContainTextAsync("vera");
                await Assertions.Expect(page.Locator("body")).ToContainTextAsync("Approver");
            });
            AssertNoErrors(approver);
        }

        var versions = JsonDocument.Parse(await portal.Http.GetStringAsync($"/api/v1/models/{ModelName}")).RootElement.GetProperty("versions");
        Assert.Equal("april", versions[0].GetProperty("stageChangedBy").GetString());
    }

    /// <summary>An action the role may not take is not offered: absent, or there but disabled.</summary>
    private static async Task CannotAsync(ILocator action)
    {
        if (await action.CountAsync() == 0) return;
        await Assertions.Expect(action).ToBeDisabledAsync();
    }

    private void AssertNoErrors(BrowserSession session)
    {
        lock (session.Errors)
        {
            if (session.Errors.Count > 0) output.WriteLine("Browser errors:\n" + string.Join("\n", session.Errors));
            Assert.Empty(session.Errors);
        }
    }
}
