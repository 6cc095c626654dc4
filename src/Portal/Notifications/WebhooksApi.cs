using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Notifications;

public sealed record WebhookRequest(int? TeamId, string? Name, string? Url, IReadOnlyList<string>? Events, bool? Enabled);
public sealed record WebhookJson(int Id, int TeamId, string Name, string Url, IReadOnlyList<string> Events, bool Enabled, string CreatedBy, DateTime CreatedAt, string? Secret = null)
{
    public static WebhookJson Of(Webhook h, string? secret = null) => new(h.Id, h.TeamId, h.Name, h.Url, h.EventList, h.Enabled, h.CreatedBy, h.CreatedAt, secret);
}
public sealed record AttemptJson(int Attempt, DateTime At, int? StatusCode, string? Error, long DurationMs, DateTime? NextAttemptAt);
public sealed record DeliveryJson(long Id, long? EventId, string Type, string Status, int Attempts, DateTime CreatedAt, DateTime? NextAttemptAt, DateTime? FinishedAt, IReadOnlyList<AttemptJson> Log);

/// <summary>
/// Team webhooks: reading them is a Viewer's, managing them an Admin's of the hook's team. The
/// /api/v1 resource filter does not know webhooks, so each call checks the team with <see cref="Access"/>.
/// </summary>
public sealed class WebhookService(PortalDb db, WriteGate gate, Access access, OutboundGuard guard, WebhookSecrets secrets, WebhookDispatcher dispatcher)
{
    public async Task<IReadOnlyList<Webhook>> ListAsync(int? teamId, CancellationToken ct)
    {
        var teams = await access.TeamsAsync(TeamRole.Viewer, ct);
        if (teamId is { } t) teams = teams.Contains(t) ? [t] : [];
        return await db.Set<Webhook>().AsNoTracking().Where(h => teams.Contains(h.TeamId)).OrderBy(h => h.Id).ToListAsync(ct);
    }

    public async Task<Webhook> GetAsync(int id, TeamRole needed, CancellationToken ct)
    {
        var hook = await db.Set<Webhook>().FirstOrDefaultAsync(h => h.Id == id, ct) ?? throw PortalException.NotFound($"Webhook {id}");
        await access.RequireAsync(hook.TeamId, needed, $"Webhook {id}", ct);
        return hook;
    }

    /// <summary>Creates a hook and answers it with its secret, which is shown this once.</summary>
    public async Task<(Webhook Hook, string Secret)> CreateAsync(WebhookRequest request, CancellationToken ct)
    {
        var teamId = request.TeamId ?? Team.DefaultId;
        await access.RequireAsync(teamId, TeamRole.Admin, $"Team {teamId}", ct);
        var (name, url, events) = await CheckAsync(request.Name, request.Url, request.Events, ct);
        var secret = WebhookSecrets.NewSecret();
        var hook = new Webhook
        {
            TeamId = teamId, Name = name, Url = url, Events = events, Enabled = request.Enabled ?? true, ProtectedSecret = secrets.Protect(secret),
            CreatedBy = access.User.Name, CreatedAt = DateTime.UtcNow,
        };
        await using var writing = await gate.EnterAsync(db, ct);
        db.Set<Webhook>().Add(hook);
        db.AuditEvents.Add(new AuditEvent { At = hook.CreatedAt, Actor = access.User.Name, Action = "webhook.created", Subject = $"webhook:{name}", TeamId = teamId, Details = url });
        await db.SaveChangesAsync(ct);
        return (hook, secret);
    }

    public async Task<Webhook> UpdateAsync(int id, WebhookRequest request, CancellationToken ct)
    {
        var hook = await GetAsync(id, TeamRole.Admin, ct);
        var (name, url, events) = await CheckAsync(request.Name ?? hook.Name, request.Url ?? hook.Url, request.Events ?? hook.EventList, ct);
        await using var writing = await gate.EnterAsync(db, ct);
        hook.Name = name;
        hook.Url = url;
        hook.Events = events;
        hook.Enabled = request.Enabled ?? hook.Enabled;
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = access.User.Name, Action = "webhook.updated", Subject = $"webhook:{name}", TeamId = hook.TeamId, Details = $"{url} enabled={hook.Enabled}" });
        await db.SaveChangesAsync(ct);
        return hook;
    }

    public async Task DeleteAsync(int id, CancellationToken ct)
    {
        var hook = await GetAsync(id, TeamRole.Admin, ct);
        await using var writing = await gate.EnterAsync(db, ct);
        db.Set<Webhook>().Remove(hook);
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = access.User.Name, Action = "webhook.deleted", Subject = $"webhook:{hook.Name}", TeamId = hook.TeamId });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Queues a ping delivery to the hook, sent by the dispatcher like any event.</summary>
    public async Task<WebhookDelivery> PingAsync(int id, CancellationToken ct)
    {
        var hook = await GetAsync(id, TeamRole.Admin, ct);
        var now = DateTime.UtcNow;
        await using var writing = await gate.EnterAsync(db, ct);
        var delivery = new WebhookDelivery
        {
            WebhookId = hook.Id, Type = WebhookDeliveries.PingType, Status = DeliveryStatus.Pending, CreatedAt = now, NextAttemptAt = now,
            Body = WebhookDeliveries.Body($"ping_{Guid.NewGuid():N}", WebhookDeliveries.PingType, now, hook.TeamId, $"webhook:{hook.Name}", access.User.Name, "{}"),
        };
        db.Set<WebhookDelivery>().Add(delivery);
        await db.SaveChangesAsync(ct);
        dispatcher.Wake();
        return delivery;
    }

    public async Task<IReadOnlyList<DeliveryJson>> DeliveriesAsync(int id, int take, CancellationToken ct)
    {
        await GetAsync(id, TeamRole.Viewer, ct);
        var deliveries = await db.Set<WebhookDelivery>().AsNoTracking().Where(d => d.WebhookId == id).OrderByDescending(d => d.Id).Take(Math.Clamp(take, 1, 200)).ToListAsync(ct);
        var ids = deliveries.Select(d => d.Id).ToList();
        var attempts = (await db.Set<WebhookAttempt>().AsNoTracking().Where(a => ids.Contains(a.DeliveryId)).ToListAsync(ct)).ToLookup(a => a.DeliveryId);
        return deliveries.Select(d => new DeliveryJson(d.Id, d.EventId, d.Type, d.Status.ToString(), d.Attempts, d.CreatedAt, d.NextAttemptAt, d.FinishedAt,
            attempts[d.Id].OrderBy(a => a.Attempt).Select(a => new AttemptJson(a.Attempt, a.At, a.StatusCode, a.Error, a.DurationMs, a.NextAttemptAt)).ToList())).ToList();
    }

    private async Task<(string Name, string Url, string Events)> CheckAsync(string? name, string? url, IReadOnlyList<string>? events, CancellationToken ct)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100)
            throw PortalException.Invalid($"Name the webhook (1 to 100 characters).", "name");
        var uri = await guard.ValidateAsync(url, ct);
        if (events is null || events.Count == 0)
            throw PortalException.Invalid($"Choose at least one event type for the webhook.", "events");
        foreach (var type in events)
            if (Array.IndexOf(EventTypes.All, type) < 0)
                throw PortalException.Invalid($"'{type}' is not an event type; choose from {string.Join(", ", EventTypes.All)}.", "events");
        return (name, uri.ToString(), string.Join(',', EventTypes.All.Where(events.Contains)));
    }
}

public static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooksApi(this RouteGroupBuilder api)
    {
        var hooks = api.MapGroup("/webhooks").WithTags("Webhooks");
        hooks.MapGet("/", async (int? teamId, WebhookService service, CancellationToken ct) =>
            (await service.ListAsync(teamId, ct)).Select(h => WebhookJson.Of(h)).ToList());
        hooks.MapPost("/", async (WebhookRequest request, WebhookService service, CancellationToken ct) =>
        {
            var (hook, secret) = await service.CreateAsync(request, ct);
            return TypedResults.Created($"/api/v1/webhooks/{hook.Id}", WebhookJson.Of(hook, secret));
        });
        hooks.MapGet("/{id:int}", async (int id, WebhookService service, CancellationToken ct) => WebhookJson.Of(await service.GetAsync(id, TeamRole.Viewer, ct)));
        hooks.MapPut("/{id:int}", async (int id, WebhookRequest request, WebhookService service, CancellationToken ct) => WebhookJson.Of(await service.UpdateAsync(id, request, ct)));
        hooks.MapDelete("/{id:int}", async (int id, WebhookService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(id, ct);
            return TypedResults.NoContent();
        });
        hooks.MapPost("/{id:int}/test", async (int id, WebhookService service, CancellationToken ct) =>
        {
            var delivery = await service.PingAsync(id, ct);
            return TypedResults.Accepted($"/api/v1/webhooks/{id}/deliveries", new { deliveryId = delivery.Id });
        });
        hooks.MapGet("/{id:int}/deliveries", async (int id, int? take, WebhookService service, CancellationToken ct) => await service.DeliveriesAsync(id, take ?? 50, ct));
        return api;
    }

    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WebhookOptions>(configuration.GetSection("ModelOps:Webhooks"));
        services.AddSingleton<OutboundGuard>();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddScoped<WebhookService>();
        return services;
    }
}
