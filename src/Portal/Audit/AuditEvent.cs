namespace ModelOps.Portal.Audit;

/// <summary>
/// Who did what to which object, and when. Append-only. <see cref="Before"/> and <see cref="After"/> hold the
/// object's state on either side of the change where there is a meaningful one (a stage, a recipe, a token's
/// state); <see cref="ResourceType"/> is the part of <see cref="Subject"/> before its first ':' ("model" for
/// "model:churn:v3"), kept in its own indexed column so the Audit page filters on it in SQL.
/// </summary>
public sealed class AuditEvent
{
    private string _subject = "";

    public long Id { get; set; }
    public DateTime At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }

    /// <summary>"model:churn:v3", "dataset:name", "schedule:x", "run:12", "token:mop_abc"; setting it sets <see cref="ResourceType"/>.</summary>
    public required string Subject
    {
        get => _subject;
        set
        {
            _subject = value;
            ResourceType = TypeOf(value);
        }
    }

    public string? Details { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }

    /// <summary>Derived from <see cref="Subject"/> (the same rule as migration M0008's backfill).</summary>
    public string? ResourceType { get; private set; }

    /// <summary>The team the resource belongs to; null until teams exist, and for portal-wide objects.</summary>
    public int? TeamId { get; set; }

    /// <summary>The text before the first ':' of a subject, or the whole subject when it has none; null when empty.</summary>
    public static string? TypeOf(string? subject)
    {
        if (string.IsNullOrEmpty(subject)) return null;
        var colon = subject.IndexOf(':');
        return colon < 0 ? subject : colon == 0 ? null : subject[..colon];
    }
}
