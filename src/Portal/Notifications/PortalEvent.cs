using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Notifications;

/// <summary>
/// Something a team may want to hear about (a promotion requested, a run failed, drift over its
/// threshold), written to the <c>portal_events</c> outbox in the same SaveChanges as the change it
/// reports, so an event exists exactly when its change committed. Webhook delivery reads the outbox
/// in the background; nothing on a request's path waits for an endpoint.
/// </summary>
public sealed class PortalEvent
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public int TeamId { get; set; }
    /// <summary>One of <see cref="EventTypes"/>.</summary>
    public required string Type { get; set; }
    /// <summary>The object it is about, in the audit trail's form ("model:churn:v3", "run:12").</summary>
    public required string Subject { get; set; }
    public required string Actor { get; set; }
    /// <summary>The event's JSON payload (an object), what a webhook receives under "data".</summary>
    public required string Data { get; set; }
}

/// <summary>The event types a webhook can subscribe to.</summary>
public static class EventTypes
{
    public const string PromotionRequested = "promotion.requested";
    public const string PromotionApproved = "promotion.approved";
    public const string PromotionRejected = "promotion.rejected";
    public const string ModelRolledBack = "model.rolled_back";
    public const string RunFailed = "run.failed";
    public const string ScheduleGateDecided = "schedule.gate_decided";
    public const string DriftOverThreshold = "drift.over_threshold";

    public static readonly string[] All =
        [PromotionRequested, PromotionApproved, PromotionRejected, ModelRolledBack, RunFailed, ScheduleGateDecided, DriftOverThreshold];
}

public static class PortalEvents
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Adds an event to <paramref name="db"/>'s pending changes: it is written by the caller's next
    /// SaveChanges, inside the caller's transaction, or not at all.
    /// </summary>
    public static PortalEvent Raise(PortalDb db, int teamId, string type, string subject, string actor, object data)
    {
        if (Array.IndexOf(EventTypes.All, type) < 0)
            throw new ArgumentOutOfRangeException(nameof(type), type, "Not one of EventTypes.All.");
        var e = new PortalEvent { At = DateTime.UtcNow, TeamId = teamId, Type = type, Subject = subject, Actor = actor, Data = JsonSerializer.Serialize(data, Json) };
        db.Set<PortalEvent>().Add(e);
        return e;
    }
}

internal sealed class PortalEventConfiguration : IEntityTypeConfiguration<PortalEvent>
{
    public void Configure(EntityTypeBuilder<PortalEvent> e)
    {
        e.ToTable("portal_events");
        e.HasIndex(x => new { x.TeamId, x.Id });
    }
}

public static class RunFailures
{
    /// <summary>Raises <see cref="EventTypes.RunFailed"/> for a run that has just turned Failed (its experiment loaded or looked up).</summary>
    public static void Raise(PortalDb db, Runs.Run run, string actor)
    {
        var experiment = run.Experiment ?? db.Experiments.Find(run.ExperimentId);
        Notifications.PortalEvents.Raise(db, experiment?.TeamId ?? Identity.Team.DefaultId, EventTypes.RunFailed, $"run:{run.Id}", actor,
            new { runId = run.Id, name = run.Name, experimentId = run.ExperimentId, experiment = experiment?.Name, error = run.Error, attempt = run.Attempt });
    }
}
