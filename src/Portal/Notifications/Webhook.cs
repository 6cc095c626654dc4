using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOps.Portal.Notifications;

/// <summary>
/// A team's subscription: the events of <see cref="EventTypes"/> it names are POSTed, signed with its
/// secret, to its URL (docs/webhooks.md). The secret is kept encrypted with ASP.NET Data Protection
/// (keys in the data folder): it must be recoverable to sign, so it is not hashed.
/// </summary>
public sealed class Webhook
{
    public int Id { get; set; }
    public int TeamId { get; set; }
    public required string Name { get; set; }
    public required string Url { get; set; }
    /// <summary>The secret, protected by <see cref="WebhookSecrets"/>.</summary>
    public required string ProtectedSecret { get; set; }
    /// <summary>Subscribed event types, comma-separated.</summary>
    public required string Events { get; set; }
    public bool Enabled { get; set; } = true;
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }

    public IReadOnlyList<string> EventList => Events.Split(',', StringSplitOptions.RemoveEmptyEntries);
    public bool Wants(string type) => type == WebhookDeliveries.PingType || EventList.Contains(type);
}

public enum DeliveryStatus
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>One event to one hook: the body is fixed when it is made, each attempt signs it anew.</summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }
    public int WebhookId { get; set; }
    /// <summary>The outbox event, or null for a test ping.</summary>
    public long? EventId { get; set; }
    public required string Type { get; set; }
    public required string Body { get; set; }
    public DeliveryStatus Status { get; set; }
    public int Attempts { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? NextAttemptAt { get; set; }
    public DateTime? FinishedAt { get; set; }
}

/// <summary>The delivery log: one row per attempt.</summary>
public sealed class WebhookAttempt
{
    public long Id { get; set; }
    public long DeliveryId { get; set; }
    public int WebhookId { get; set; }
    public int Attempt { get; set; }
    public DateTime At { get; set; }
    public int? StatusCode { get; set; }
    public string? Error { get; set; }
    public long DurationMs { get; set; }
    public DateTime? NextAttemptAt { get; set; }
}

/// <summary>How far the dispatcher has read the outbox (one row, Id 1).</summary>
public sealed class WebhookCursor
{
    public int Id { get; set; }
    public long LastEventId { get; set; }
}

internal sealed class WebhookConfiguration : IEntityTypeConfiguration<Webhook>
{
    public void Configure(EntityTypeBuilder<Webhook> e)
    {
        e.ToTable("webhooks");
        e.HasIndex(x => x.TeamId);
        e.Ignore(x => x.EventList);
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> e)
    {
        e.ToTable("webhook_deliveries");
        e.Property(x => x.Status).HasConversion<string>();
        e.HasOne<Webhook>().WithMany().HasForeignKey(x => x.WebhookId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.Status, x.NextAttemptAt });
        e.HasIndex(x => new { x.WebhookId, x.Id });
    }
}

internal sealed class WebhookAttemptConfiguration : IEntityTypeConfiguration<WebhookAttempt>
{
    public void Configure(EntityTypeBuilder<WebhookAttempt> e)
    {
        e.ToTable("webhook_attempts");
        e.HasOne<WebhookDelivery>().WithMany().HasForeignKey(x => x.DeliveryId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.WebhookId, x.Id });
    }
}

internal sealed class WebhookCursorConfiguration : IEntityTypeConfiguration<WebhookCursor>
{
    public void Configure(EntityTypeBuilder<WebhookCursor> e)
    {
        e.ToTable("webhook_cursor");
        e.Property(x => x.Id).ValueGeneratedNever();
    }
}
