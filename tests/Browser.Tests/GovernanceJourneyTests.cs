using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Browser.Tests;

/// <summary>
/// Issue 12's walk in a real Chromium, by two people: an Approver puts a Staging version on a 20 %
/// canary and the predict API sends about a fifth of the callers to it (each caller sticky); an Editor
/// asks for that version in Production; the Approver approves it, and a team webhook on 127.0.0.1
/// receives the signed approval; the Approver rolls back in one click and the next prediction is
/// answered by the old version; the history API says which version was in Production before the
/// approval; the Approver signs the review off and exports it as a PDF.
/// </summary>
public sealed class GovernanceJourneyTests(ITestOutputHelper output)
{
    private const string ModelName = "journey-model";

    [Fact]
    public async Task A_canary_a_request_approved_by_another_person_a_signed_webhook_a_rollback_and_a_review_export()
    {
        using var data = new TempFolder();
        using var receiver = new HookReceiver();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false",
            "--ModelOps:Webhooks:AllowedNetworks:0=127.0.0.0/8", "--ModelOps:Webhooks:PollSeconds=0.5", "--ModelOps:Serving:FlushMilliseconds=500");
        foreach (var (name, role) in new[] { ("eddie", "Editor"), ("april", "Approver") })
        {
            (await portal.Http.PostAsJsonAsync("/api/v1/users", new { userName = name, password = name + "-password-1" })).EnsureSuccessStatusCode();
            (await portal.Http.PutAsJsonAsync($"/api/v1/teams/1/members/{name}", new { role })).EnsureSuccessStatusCode();
        }
        using var hookResponse = await portal.Http.PostAsJsonAsync("/api/v1/webhooks", new
        {
            teamId = 1, name = "release-channel", url = receiver.Url, events = new[] { "promotion.requested", "promotion.approved", "model.rolled_back" },
        });
        Assert.Equal(HttpStatusCode.Created, hookResponse.StatusCode);
        var secret = (await hookResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;

        var first = await portal.StartMlpRunAsync(epochs: 2, rows: 300, dataset: "journey-data");
        var second = await portal.StartMlpRunAsync(epochs: 3, rows: 300, dataset: "journey-data");
        foreach (var run in new[] { first, second })
        {
            await portal.WaitForRunAsync(run, r => r.GetProperty("status").GetString() is "Finished" or "Failed", TimeSpan.FromMinutes(4));
            (await portal.Http.PostAsJsonAsync($"/api/v1/models/{ModelName}/versions", new { runId = run })).EnsureSuccessStatusCode();
        }
        (await portal.Http.PostAsJsonAsync($"/api/v1/models/{ModelName}/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        (await portal.Http.PostAsJsonAsync($"/api/v1/models/{ModelName}/versions/2/stage", new { stage = "Staging" })).EnsureSuccessStatusCode();
        var beforeApproval = DateTime.UtcNow;

        await using (var approver = await BrowserSession.StartAsync(portal.BaseUrl, "april", "april-password-1"))
        {
            var page = approver.Page;
            var journey = new Journey(page, portal, output, approver.Errors);
            await journey.Step("the Approver puts v2 on a 20 % canary from the model's serving panel", async () =>
            {
                await journey.OpenAsync($"/models?model={ModelName}");
                await page.GetByTestId("canary-version").ClickAsync();
                await page.GetByRole(AriaRole.Option, new() { Name = "v2", Exact = true }).ClickAsync();
                await journey.FillAsync("canary-percent", "20");
                await page.GetByTestId("canary-set").ClickAsync();
                await Assertions.Expect(page.GetByTestId("serving-canary")).ToContainTextAsync("v2");
                await Assertions.Expect(page.GetByTestId("serving-canary")).ToContainTextAsync("20");
            });
            AssertNoErrors(approver);
        }

        await Step("about a fifth of the callers are answered by the canary, each caller always by the same version", async () =>
        {
            var canary = 0;
            const int callers = 200;
            for (var i = 0; i < callers; i++)
            {
                var version = await PredictAsync(portal, $"caller-{i}");
                Assert.Equal(version, await PredictAsync(portal, $"caller-{i}"));
                if (version == 2) canary++;
            }
            output.WriteLine($"{canary} of {callers} callers went to the canary");
            Assert.InRange(canary, 20, 60);
        });

        await using (var editor = await BrowserSession.StartAsync(portal.BaseUrl, "eddie", "eddie-password-1"))
        {
            var page = editor.Page;
            var journey = new Journey(page, portal, output, editor.Errors);
            await journey.Step("the Editor asks for v2 in Production with a note", async () =>
            {
                await journey.OpenAsync($"/models?model={ModelName}");
                await journey.FillAsync("request-note", "canary looks healthy");
                await page.GetByTestId($"request-{ModelName}-2").ClickAsync();
                await Assertions.Expect(page.Locator("[data-testid^='promotion-request-'][data-status='Open']")).ToHaveCountAsync(1);
                await Assertions.Expect(page.GetByTestId($"stage-{ModelName}-2")).ToHaveTextAsync("Staging");
            });
            AssertNoErrors(editor);
        }
        var requests = await portal.Http.GetFromJsonAsync<JsonElement>($"/api/v1/models/{ModelName}/promotion-requests");
        var requestId = requests.EnumerateArray().Single().GetProperty("id").GetInt32();

        await using (var approver = await BrowserSession.StartAsync(portal.BaseUrl, "april", "april-password-1"))
        {
            var page = approver.Page;
            var journey = new Journey(page, portal, output, approver.Errors);
            var dialog = page.Locator(".mud-dialog");
            await journey.Step("the Approver approves eddie's request and v2 serves from Production", async () =>
            {
                await journey.OpenAsync($"/models?model={ModelName}");
                await journey.FillAsync($"decision-note-{requestId}", "agreed: ship it");
                await page.GetByTestId($"approve-request-{requestId}").ClickAsync();
                await Assertions.Expect(page.GetByTestId($"promotion-request-{requestId}")).ToHaveAttributeAsync("data-status", "Approved");
                await Assertions.Expect(page.GetByTestId($"stage-{ModelName}-2")).ToHaveTextAsync("Production");
                Assert.Equal(2, await PredictAsync(portal, "after-approval"));
            });
            await journey.Step("the team's webhook received the approval, signed with its secret and a fresh timestamp", async () =>
            {
                var approved = await receiver.WaitForAsync("promotion.approved", TimeSpan.FromSeconds(30));
                Assert.Equal(Sign(secret, approved.Timestamp, approved.Body), approved.Signature);
                Assert.InRange(long.Parse(approved.Timestamp), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
                var body = JsonDocument.Parse(approved.Body).RootElement;
                Assert.Equal("promotion.approved", body.GetProperty("type").GetString());
                Assert.Contains("april", approved.Body);
                Assert.Contains(ModelName, approved.Body);
                Assert.NotEqual(Sign(secret, approved.Timestamp, approved.Body + " "), approved.Signature);
            });
            await journey.Step("one click rolls back to v1, and the next prediction is answered by v1", async () =>
            {
                await journey.ClickUntilAsync($"rollback-{ModelName}", dialog);
                await dialog.GetByRole(AriaRole.Button, new() { Name = "Roll back", Exact = true }).ClickAsync();
                await Assertions.Expect(page.GetByTestId($"stage-{ModelName}-1")).ToHaveTextAsync("Production");
                Assert.Equal(1, await PredictAsync(portal, "after-rollback"));
                await receiver.WaitForAsync("model.rolled_back", TimeSpan.FromSeconds(30));
            });
            await journey.Step("the history API names the version that was in Production before the approval", async () =>
            {
                var at = beforeApproval.ToString("O");
                var then = await portal.Http.GetFromJsonAsync<JsonElement>($"/api/v1/models/{ModelName}/history?stage=Production&at={Uri.EscapeDataString(at)}");
                Assert.Equal(1, then.GetProperty("interval").GetProperty("version").GetInt32());
            });
            await journey.Step("the Approver signs the review off and exports it as a PDF", async () =>
            {
                // v2 is archived since the rollback, so it is asked for as the challenger.
                await journey.OpenAsync($"/models/{ModelName}/review?v=2");
                await Assertions.Expect(page.GetByTestId("review-production")).ToContainTextAsync("v1");
                await Assertions.Expect(page.GetByTestId("review-version-2")).ToBeVisibleAsync();
                await Assertions.Expect(page.GetByTestId("review-serving")).ToContainTextAsync("v2");
                await journey.FillAsync("review-note", "v1 stays until v2's drift is understood");
                await page.GetByTestId("review-sign-off").ClickAsync();
                await Assertions.Expect(page.GetByTestId("review-decisions")).ToContainTextAsync("april");
                // For the README and docs/review.md: what a manager sees.
                await journey.ScreenshotWholePageAsync(Path.Combine(PortalProcess.RepositoryRoot, "artifacts", "screenshots", "review-page.png"));
                var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("review-pdf").ClickAsync());
                var path = Path.Combine(data.Path, "review.pdf");
                await download.SaveAsAsync(path);
                var bytes = await File.ReadAllBytesAsync(path);
                Assert.True(bytes.Length > 1000, $"the PDF has {bytes.Length} bytes");
                Assert.Equal("%PDF-", Encoding.ASCII.GetString(bytes, 0, 5));
            });
            AssertNoErrors(approver);
        }

        var audit = await portal.Http.GetStringAsync("/api/v1/audit?take=200");
        Assert.Contains("model.review.signed_off", audit);
    }

    private async Task Step(string name, Func<Task> body)
    {
        output.WriteLine($"step: {name}");
        await body();
    }

    private static async Task<int> PredictAsync(PortalProcess portal, string caller)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/models/{ModelName}/predict")
        {
            Content = JsonContent.Create(new { inputs = new object[] { new object[] { 0.5, -0.25, "red" } } }),
        };
        request.Headers.Add("X-ModelOps-Caller", caller);
        using var response = await portal.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var version = JsonDocument.Parse(body).RootElement.GetProperty("version").GetInt32();
        Assert.Equal(version.ToString(), response.Headers.GetValues("X-ModelOps-Model-Version").Single());
        return version;
    }

    /// <summary>What a receiver checks (docs/webhooks.md): HMAC-SHA256 of "timestamp.body" with the hook's secret.</summary>
    private static string Sign(string secret, string timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    private static void AssertNoErrors(BrowserSession session) =>
        Assert.True(session.Errors.Count == 0, "The browser reported errors:\n" + string.Join("\n", session.Errors));

    private sealed record Delivery(string Event, string Timestamp, string Signature, string Body);

    /// <summary>A webhook endpoint on 127.0.0.1 (allowed to the portal by configuration) that keeps what it receives.</summary>
    private sealed class HookReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly List<Delivery> _received = [];
        private readonly Task _loop;

        public HookReceiver()
        {
            var port = PortalProcess.FreePort();
            Url = $"http://127.0.0.1:{port}/hook/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public string Url { get; }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                {
                    var delivery = new Delivery(context.Request.Headers["X-ModelOps-Event"] ?? "", context.Request.Headers["X-ModelOps-Timestamp"] ?? "",
                        context.Request.Headers["X-ModelOps-Signature"] ?? "", await reader.ReadToEndAsync());
                    lock (_received) _received.Add(delivery);
                }
                context.Response.StatusCode = 204;
                context.Response.Close();
            }
        }

        public async Task<Delivery> WaitForAsync(string type, TimeSpan timeout)
        {
            var until = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < until)
            {
                lock (_received)
                    if (_received.FirstOrDefault(d => d.Event == type) is { } found) return found;
                await Task.Delay(200);
            }
            lock (_received)
                throw new TimeoutException($"No {type} delivery within {timeout}; received: {string.Join(", ", _received.Select(d => d.Event))}");
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        }
    }
}
