using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Notifications;

namespace ModelOps.Portal.Tests;

/// <summary>
/// Team webhooks end to end: a real HTTP receiver on 127.0.0.1 (allowed by configuration) gets the
/// outbox's events signed; failures are retried and logged; the SSRF guard refuses what it must at
/// save and at connect; only an Admin manages a hook, and another team does not learn it exists.
/// </summary>
public sealed class WebhookTests : IDisposable
{
    private readonly PortalFactory _portal = new PortalFactory()
        .With("ModelOps:Webhooks:AllowedNetworks:0", "127.0.0.0/8")
        .With("ModelOps:Webhooks:PollSeconds", "3600")
        .With("ModelOps:Webhooks:FirstRetrySeconds", "0")
        .With("ModelOps:Webhooks:MaxAttempts", "4");
    private readonly Receiver _receiver = new();

    public void Dispose()
    {
        _portal.Dispose();
        _receiver.Dispose();
    }

    private async Task<(int Id, string Secret)> CreateHookAsync(HttpClient client, string url, params string[] events)
    {
        var created = await client.PostAsJsonAsync("/api/v1/webhooks", new { name = "hook", url, events });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var json = await created.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("id").GetInt32(), json.GetProperty("secret").GetString()!);
    }

    private Task PassAsync() => _portal.Services.GetRequiredService<WebhookDispatcher>().PassAsync(CancellationToken.None);

    private Task RaiseAsync(string type, object data) => _portal.InScopeAsync(async sp =>
    {
        var db = sp.GetRequiredService<PortalDb>();
        PortalEvents.Raise(db, Team.DefaultId, type, "model:churn:v3", "alice", data);
        return await db.SaveChangesAsync();
    });

    [Fact]
    public async Task An_event_reaches_the_receiver_signed_and_a_tampered_or_stale_one_fails_verification()
    {
        var admin = _portal.CreateClient();
        var (id, secret) = await CreateHookAsync(admin, _receiver.Url("hook"), EventTypes.PromotionRequested);
        Assert.StartsWith("whsec_", secret);
        // The secret is shown once: reading the hook later does not return it.
        Assert.False((await admin.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}")).TryGetProperty("secret", out var again) && again.ValueKind == JsonValueKind.String);

        await RaiseAsync(EventTypes.RunFailed, new { runId = 1 }); // not subscribed
        await RaiseAsync(EventTypes.PromotionRequested, new { model = "churn", version = 3 });
        await PassAsync();

        var request = Assert.Single(_receiver.Requests);
        Assert.Equal(EventTypes.PromotionRequested, request.Headers["X-ModelOps-Event"]);
        var timestamp = request.Headers["X-ModelOps-Timestamp"]!;
        var signature = request.Headers["X-ModelOps-Signature"]!;
        Assert.StartsWith("sha256=", signature);
        Assert.True(WebhookSignature.Verify(secret, timestamp, request.Body, signature, DateTimeOffset.UtcNow));
        Assert.False(WebhookSignature.Verify(secret, timestamp, request.Body.Replace("churn", "chury"), signature, DateTimeOffset.UtcNow));
        Assert.False(WebhookSignature.Verify("whsec_other", timestamp, request.Body, signature, DateTimeOffset.UtcNow));
        Assert.False(WebhookSignature.Verify(secret, timestamp, request.Body, signature, DateTimeOffset.UtcNow.AddMinutes(10)));
        Assert.False(WebhookSignature.Verify(secret, timestamp, request.Body, signature, DateTimeOffset.UtcNow.AddSeconds(90), TimeSpan.FromSeconds(30)));

        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(EventTypes.PromotionRequested, body.GetProperty("type").GetString());
        Assert.Equal(Team.DefaultId, body.GetProperty("team").GetInt32());
        Assert.Equal("model:churn:v3", body.GetProperty("subject").GetString());
        Assert.Equal("alice", body.GetProperty("actor").GetString());
        Assert.Equal(3, body.GetProperty("data").GetProperty("version").GetInt32());
        Assert.StartsWith("evt_", body.GetProperty("id").GetString());

        var log = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries");
        Assert.Equal("Delivered", log[0].GetProperty("status").GetString());
        Assert.Equal(200, log[0].GetProperty("log")[0].GetProperty("statusCode").GetInt32());
        Assert.Equal(request.Headers["X-ModelOps-Delivery"], log[0].GetProperty("id").GetInt64().ToString());
    }

    [Fact]
    public async Task A_failing_receiver_is_retried_and_the_log_shows_each_attempt_then_success()
    {
        _receiver.Answer = (_, n) => n <= 2 ? 500 : 200;
        var admin = _portal.CreateClient();
        var (id, _) = await CreateHookAsync(admin, _receiver.Url("flaky"), EventTypes.ModelRolledBack);
        await RaiseAsync(EventTypes.ModelRolledBack, new { model = "churn" });
        for (var i = 0; i < 3; i++) await PassAsync();

        Assert.Equal(3, _receiver.Requests.Count);
        var delivery = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries"))[0];
        Assert.Equal("Delivered", delivery.GetProperty("status").GetString());
        var attempts = delivery.GetProperty("log").EnumerateArray().ToList();
        Assert.Equal([500, 500, 200], attempts.Select(a => a.GetProperty("statusCode").GetInt32()));
        Assert.Contains("500", attempts[0].GetProperty("error").GetString());
        Assert.NotEqual(JsonValueKind.Null, attempts[0].GetProperty("nextAttemptAt").ValueKind);
        // The same delivery each time: one id, one body.
        Assert.Single(_receiver.Requests.Select(r => r.Headers["X-ModelOps-Delivery"]).Distinct());
        Assert.Single(_receiver.Requests.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task A_receiver_that_always_fails_ends_failed_after_the_configured_attempts()
    {
        _receiver.Answer = (_, _) => 503;
        var admin = _portal.CreateClient();
        var (id, _) = await CreateHookAsync(admin, _receiver.Url("down"), EventTypes.DriftOverThreshold);
        await RaiseAsync(EventTypes.DriftOverThreshold, new { feature = "x" });
        for (var i = 0; i < 6; i++) await PassAsync();
        Assert.Equal(4, _receiver.Requests.Count);
        var delivery = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries"))[0];
        Assert.Equal("Failed", delivery.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("log")[3].GetProperty("nextAttemptAt").ValueKind);
    }

    [Fact]
    public async Task A_redirect_is_a_failed_attempt_and_its_target_is_not_reached()
    {
        _receiver.Answer = (path, _) => path.EndsWith("/redirect") ? 302 : 200;
        var admin = _portal.CreateClient();
        var (id, _) = await CreateHookAsync(admin, _receiver.Url("redirect"), EventTypes.PromotionApproved);
        await RaiseAsync(EventTypes.PromotionApproved, new { model = "churn" });
        await PassAsync();
        Assert.Single(_receiver.Requests);
        Assert.DoesNotContain(_receiver.Requests, r => r.Path.EndsWith("/target"));
        var attempt = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries"))[0].GetProperty("log")[0];
        Assert.Equal(302, attempt.GetProperty("statusCode").GetInt32());
        Assert.Contains("redirects are not followed", attempt.GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_test_button_pings_and_a_disabled_hook_gets_nothing()
    {
        var admin = _portal.CreateClient();
        var (id, secret) = await CreateHookAsync(admin, _receiver.Url("ping"), EventTypes.PromotionRejected);
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/v1/webhooks/{id}/test", null)).StatusCode);
        await PassAsync();
        var ping = Assert.Single(_receiver.Requests);
        Assert.Equal("ping", ping.Headers["X-ModelOps-Event"]);
        Assert.True(WebhookSignature.Verify(secret, ping.Headers["X-ModelOps-Timestamp"]!, ping.Body, ping.Headers["X-ModelOps-Signature"]!, DateTimeOffset.UtcNow));

        var put = await admin.PutAsJsonAsync($"/api/v1/webhooks/{id}", new { enabled = false });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        await RaiseAsync(EventTypes.PromotionRejected, new { model = "churn" });
        await PassAsync();
        Assert.Single(_receiver.Requests);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
    }

    [Fact]
    public async Task Only_an_Admin_manages_hooks_and_another_team_gets_404()
    {
        var admin = _portal.CreateClient();
        var (id, _) = await CreateHookAsync(admin, _receiver.Url("mine"), EventTypes.RunFailed);
        var editor = await _portal.ClientForAsync("eddie", TeamRole.Editor);
        var viewer = await _portal.ClientForAsync("vic", TeamRole.Viewer);
        await HttpAssert.ProblemAsync(await editor.PostAsJsonAsync("/api/v1/webhooks", new { name = "e", url = _receiver.Url("e"), events = new[] { EventTypes.RunFailed } }), 403, "Admin");
        await HttpAssert.ProblemAsync(await editor.PutAsJsonAsync($"/api/v1/webhooks/{id}", new { enabled = false }), 403, "Admin");
        await HttpAssert.ProblemAsync(await viewer.DeleteAsync($"/api/v1/webhooks/{id}"), 403, "Admin");
        await HttpAssert.ProblemAsync(await viewer.PostAsync($"/api/v1/webhooks/{id}/test", null), 403, "Admin");
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/v1/webhooks/{id}/deliveries")).StatusCode);
        Assert.Equal(id, (await viewer.GetFromJsonAsync<JsonElement>("/api/v1/webhooks"))[0].GetProperty("id").GetInt32());

        var other = await _portal.TeamAsync("other-team");
        var outsider = await _portal.ClientForAsync("mallory", TeamRole.Admin, other);
        Assert.Equal(0, (await outsider.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).GetArrayLength());
        foreach (var response in new[]
                 {
                     await outsider.GetAsync($"/api/v1/webhooks/{id}"),
                     await outsider.GetAsync($"/api/v1/webhooks/{id}/deliveries"),
                     await outsider.PutAsJsonAsync($"/api/v1/webhooks/{id}", new { enabled = false }),
                     await outsider.PostAsync($"/api/v1/webhooks/{id}/test", null),
                     await outsider.DeleteAsync($"/api/v1/webhooks/{id}"),
                 })
            await HttpAssert.ProblemAsync(response, 404, $"Webhook {id}");
        // The outsider's own team is theirs to manage, and the other team's hook is untouched.
        await HttpAssert.ProblemAsync(await outsider.PostAsJsonAsync("/api/v1/webhooks", new { teamId = Team.DefaultId, name = "x", url = _receiver.Url("x"), events = new[] { EventTypes.RunFailed } }), 404, "Team");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _portal.AnonymousClient().GetAsync("/api/v1/webhooks")).StatusCode);
    }

    [Fact]
    public async Task A_failed_run_writes_a_run_failed_event_in_the_outbox()
    {
        var admin = _portal.CreateClient();
        var runId = await SimulatedWorker.QueueCsvRunAsync(admin, "failing");
        var worker = await SimulatedWorker.BeginAsync(_portal, runId);
        (await worker.Http.PostAsJsonAsync($"/api/v1/runs/{runId}/finish", new FinishReport(FinishStatus.Failed, "out of memory", null))).EnsureSuccessStatusCode();
        var e = _portal.Db(db => db.Set<PortalEvent>().Single(x => x.Type == EventTypes.RunFailed));
        Assert.Equal($"run:{runId}", e.Subject);
        Assert.Equal(Team.DefaultId, e.TeamId);
        Assert.Contains("out of memory", e.Data);
    }

    [Fact]
    public async Task Unsafe_urls_are_refused_at_save_without_an_allowance()
    {
        using var portal = new PortalFactory();
        var admin = portal.CreateClient();
        var cases = new Dictionary<string, string>
        {
            ["ftp://example.com/hook"] = "http or https",
            ["https://user:pass@example.com/hook"] = "credentials",
            ["http://127.0.0.1:9/hook"] = "loopback",
            ["http://localhost:9/hook"] = "loopback",
            ["http://[::1]:9/hook"] = "loopback",
            ["http://[::ffff:127.0.0.1]/hook"] = "loopback",
            ["http://169.254.169.254/latest/meta-data"] = "link-local",
            ["http://[fe80::1]/hook"] = "link-local",
            ["http://10.1.2.3/hook"] = "private",
            ["http://192.168.1.1/hook"] = "private",
            ["http://172.16.0.1/hook"] = "private",
            ["http://100.64.0.1/hook"] = "private",
            ["http://[fd00::1]/hook"] = "private",
            ["http://0.0.0.0/hook"] = "unspecified",
            ["http://224.0.0.1/hook"] = "multicast",
        };
        var wrong = new List<string>();
        foreach (var (url, why) in cases)
        {
            var response = await admin.PostAsJsonAsync("/api/v1/webhooks", new { name = "bad", url, events = new[] { EventTypes.RunFailed } });
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.BadRequest || !text.Contains(why)) wrong.Add($"{url}: {(int)response.StatusCode} {text}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Equal(0, portal.Db(db => db.Set<Webhook>().Count()));
        // A public address is fine at save.
        var ok = await admin.PostAsJsonAsync("/api/v1/webhooks", new { name = "ok", url = "https://203.0.113.7/hook", events = new[] { EventTypes.RunFailed } });
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
    }

    [Fact]
    public async Task The_connect_time_guard_refuses_loopback_and_nothing_reaches_the_receiver()
    {
        var guard = new OutboundGuard(Options.Create(new WebhookOptions()));
        using var http = new HttpClient(guard.Handler());
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.PostAsync(_receiver.Url("guarded"), new StringContent("{}")));
        Assert.Contains("loopback", refused.InnerException?.Message ?? refused.Message);
        var byName = await Assert.ThrowsAsync<HttpRequestException>(() => http.PostAsync(_receiver.Url("guarded").Replace("127.0.0.1", "localhost"), new StringContent("{}")));
        Assert.Contains("loopback", byName.InnerException?.Message ?? byName.Message);
        Assert.Empty(_receiver.Requests);

        var allowed = new OutboundGuard(Options.Create(new WebhookOptions { AllowedNetworks = ["127.0.0.0/8"] }));
        using var through = new HttpClient(allowed.Handler());
        Assert.Equal(HttpStatusCode.OK, (await through.PostAsync(_receiver.Url("allowed"), new StringContent("{}"))).StatusCode);
        Assert.Single(_receiver.Requests);
        Assert.NotNull(allowed.Refusal(IPAddress.Parse("::ffff:10.0.0.1")));
        Assert.Null(allowed.Refusal(IPAddress.Parse("::ffff:127.0.0.1")));
    }

    /// <summary>A real HTTP endpoint on 127.0.0.1 that records what it is sent.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly int _port;
        private int _count;

        public Receiver()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            _port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        public ConcurrentQueue<(string Path, Dictionary<string, string?> Headers, string Body)> Requests { get; } = new();
        /// <summary>The status for a request to the path, the how-many-th it is.</summary>
        public Func<string, int, int> Answer { get; set; } = (_, _) => 200;

        public string Url(string path) => $"http://127.0.0.1:{_port}/{path}";

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers[k], StringComparer.OrdinalIgnoreCase);
                var path = context.Request.Url!.AbsolutePath;
                Requests.Enqueue((path, headers, body));
                var status = Answer(path, Interlocked.Increment(ref _count));
                context.Response.StatusCode = status;
                if (status is >= 300 and < 400) context.Response.Headers["Location"] = Url("target");
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
        }
    }
}
