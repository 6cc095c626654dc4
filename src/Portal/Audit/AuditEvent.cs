namespace ModelOps.Portal.Audit;

/// <summary>Who did what to which object, and when. Append-only.</summary>
public sealed class AuditEvent
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public required string Subject { get; set; }
    public string? Details { get; set; }
    public int? TeamId { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }
}
