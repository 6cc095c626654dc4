using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Notifications;

public static class WebhookDeliveries
{
    public const string PingType = "ping";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Body(string id, string type, DateTime at, int team, string subject, string actor, string dataJson) =>
        JsonSerializer.Serialize(new { id, type, at, team, subject, actor, data = JsonDocument.Parse(dataJson).RootElement }, Json);
}

/// <summary>
/// Delivers the outbox in the background: new portal_events (after a cursor kept in the store) become
/// one delivery per enabled hook of the team that subscribes to the type; due deliveries are POSTed,
/// signed, through the <see cref="OutboundGuard"/>'s handler; a failed attempt is retried after the
/// configured delays. All state is in SQLite, so a restart carries on where it stopped.
/// </summary>
public sealed class WebhookDispatcher(IDbContextFactory<PortalDb> dbs, WriteGate gate, OutboundGuard guard, WebhookSecrets secrets, IOptions<WebhookOptions> options, ILogger<WebhookDispatcher> log) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _pass = new(1, 1);
    private readonly Lazy<HttpClient> _http = new(() => new HttpClient(guard.Handler()) { Timeout = TimeSpan.FromSeconds(options.Value.TimeoutSeconds) });
    private DateTime _prunedAt;

    /// <summary>Asks for a pass now instead of at the next poll.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await PassAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                log.LogError(e, "Webhook dispatch pass failed");
            }
            try { await _wake.WaitAsync(TimeSpan.FromSeconds(options.Value.PollSeconds), stop); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>One pass: fan out new events, attempt what is due, prune hourly. Passes never overlap.</summary>
    public async Task PassAsync(CancellationToken ct)
    {
        await _pass.WaitAsync(ct);
        try { await PassCoreAsync(ct); }
        finally { _pass.Release(); }
    }

    private async Task PassCoreAsync(CancellationToken ct)
    {
        while (await FanOutAsync(ct)) { }
        await using (var db = await dbs.CreateDbContextAsync(ct))
        {
            var now = DateTime.UtcNow;
            var due = await db.Set<WebhookDelivery>().Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now)
                .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(50).ToListAsync(ct);
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (id, token) => await AttemptAsync(id, token));
        }
        if (DateTime.UtcNow - _prunedAt > TimeSpan.FromHours(1)) await PruneAsync(ct);
    }

    /// <summary>Turns the next batch of outbox events into deliveries; true when there may be more.</summary>
    private async Task<bool> FanOutAsync(CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var cursor = await db.Set<WebhookCursor>().FirstOrDefaultAsync(c => c.Id == 1, ct);
        var last = cursor?.LastEventId ?? 0;
        var events = await db.Set<PortalEvent>().Where(e => e.Id > last).OrderBy(e => e.Id).Take(100).ToListAsync(ct);
        if (events.Count == 0) return false;
        var teams = events.Select(e => e.TeamId).Distinct().ToList();
        var hooks = await db.Set<Webhook>().Where(h => h.Enabled && teams.Contains(h.TeamId)).ToListAsync(ct);
        await using var writing = await gate.EnterAsync(db, ct);
        var now = DateTime.UtcNow;
        foreach (var e in events)
            foreach (var hook in hooks.Where(h => h.TeamId == e.TeamId && h.Wants(e.Type)))
                db.Set<WebhookDelivery>().Add(new WebhookDelivery
                {
                    WebhookId = hook.Id, EventId = e.Id, Type = e.Type, Status = DeliveryStatus.Pending, CreatedAt = now, NextAttemptAt = now,
                    Body = WebhookDeliveries.Body($"evt_{e.Id}", e.Type, e.At, e.TeamId, e.Subject, e.Actor, e.Data),
                });
        if (cursor is null) db.Set<WebhookCursor>().Add(new WebhookCursor { Id = 1, LastEventId = events[^1].Id });
        else cursor.LastEventId = events[^1].Id;
        await db.SaveChangesAsync(ct);
        return events.Count == 100;
    }

    private async Task AttemptAsync(long deliveryId, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var delivery = await db.Set<WebhookDelivery>().FirstAsync(d => d.Id == deliveryId, ct);
        var hook = await db.Set<Webhook>().FirstOrDefaultAsync(h => h.Id == delivery.WebhookId, ct);
        if (hook is null) return;
        var attempt = delivery.Attempts + 1;
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        int? code = null;
        string? error = null;
        var watch = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = new StringContent(delivery.Body, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-ModelOps-Event", delivery.Type);
            request.Headers.Add("X-ModelOps-Delivery", delivery.Id.ToString());
            request.Headers.Add("X-ModelOps-Timestamp", timestamp.ToString());
            request.Headers.Add("X-ModelOps-Signature", WebhookSignature.Sign(secrets.Unprotect(hook.ProtectedSecret), timestamp, delivery.Body));
            request.Headers.UserAgent.ParseAdd("ModelOps-Webhooks/1");
            using var response = await _http.Value.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            code = (int)response.StatusCode;
            if (code is >= 300 and < 400) error = $"The endpoint answered {code} (a redirect to {response.Headers.Location}); redirects are not followed.";
            else if (code is < 200 or >= 300) error = $"The endpoint answered {code} {response.ReasonPhrase}.";
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"No answer within {options.Value.TimeoutSeconds:0.#} s.";
        }
        catch (HttpRequestException e)
        {
            error = e.InnerException is HttpRequestException inner ? inner.Message : e.Message;
        }
        watch.Stop();
        var now = DateTime.UtcNow;
        DateTime? next = error is not null && options.Value.RetryAfter(attempt) is { } wait ? now + wait : null;
        await using var writing = await gate.EnterAsync(db, ct);
        delivery.Attempts = attempt;
        delivery.Status = error is null ? DeliveryStatus.Delivered : next is null ? DeliveryStatus.Failed : DeliveryStatus.Pending;
        delivery.NextAttemptAt = next;
        if (delivery.Status != DeliveryStatus.Pending) delivery.FinishedAt = now;
        db.Set<WebhookAttempt>().Add(new WebhookAttempt
        {
            DeliveryId = delivery.Id, WebhookId = hook.Id, Attempt = attempt, At = now, StatusCode = code,
            Error = error is { Length: > 1000 } ? error[..1000] : error, DurationMs = watch.ElapsedMilliseconds, NextAttemptAt = next,
        });
        await db.SaveChangesAsync(ct);
        if (error is not null) log.LogInformation("Webhook {Hook} delivery {Delivery} attempt {Attempt} failed: {Error}", hook.Id, delivery.Id, attempt, error);
    }

    /// <summary>Bounds the log: finished deliveries older than the retention, and beyond the newest N per hook.</summary>
    private async Task PruneAsync(CancellationToken ct)
    {
        _prunedAt = DateTime.UtcNow;
        await using var db = await dbs.CreateDbContextAsync(ct);
        var cutoff = DateTime.UtcNow.AddDays(-options.Value.RetentionDays);
        await using var writing = await gate.EnterAsync(db, ct);
        await db.Set<WebhookDelivery>().Where(d => d.Status != DeliveryStatus.Pending && d.CreatedAt < cutoff).ExecuteDeleteAsync(ct);
        foreach (var hook in await db.Set<Webhook>().Select(h => h.Id).ToListAsync(ct))
        {
            var keepFrom = await db.Set<WebhookDelivery>().Where(d => d.WebhookId == hook).OrderByDescending(d => d.Id)
                .Skip(options.Value.KeepPerHook).Select(d => (long?)d.Id).FirstOrDefaultAsync(ct);
            if (keepFrom is { } id)
                await db.Set<WebhookDelivery>().Where(d => d.WebhookId == hook && d.Id <= id && d.Status != DeliveryStatus.Pending).ExecuteDeleteAsync(ct);
        }
    }
}
