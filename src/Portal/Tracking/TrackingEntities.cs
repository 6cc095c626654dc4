namespace ModelOps.Portal.Tracking;

/// <summary>A named group of runs (docs/tracking.md). Deleting one is soft: it and its runs drop out of lists.</summary>
public sealed class Experiment
{
    public const int DefaultId = 1;

    public int Id { get; set; }
    /// <summary>The owning team (docs/identity.md); team 1 owns what existed before teams.</summary>
    public int TeamId { get; set; } = Identity.Team.DefaultId;
    public required string Name { get; set; }
    public string? Description { get; set; }
    public required string Owner { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? DeletedAt { get; set; }
    public List<ExperimentTag> Tags { get; set; } = [];
}

public sealed class ExperimentTag
{
    public int ExperimentId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

/// <summary>Write-once: the same value again is a no-op, a different one a conflict.</summary>
public sealed class RunParam
{
    public int RunId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
    /// <summary>The value as a number when it parses as one, so filters compare numerically.</summary>
    public double? NumValue { get; set; }
}

public sealed class RunTag
{
    public int RunId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

public sealed class RunArtifact
{
    public int RunId { get; set; }
    public required string Path { get; set; }
    public long SizeBytes { get; set; }
    public required string Sha256 { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A token for a non-browser client. Only its SHA-256 is kept; the token is shown once.</summary>
public sealed class ApiToken
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public required string Owner { get; set; }
    /// <summary>The first characters of the token, so a user can tell tokens apart in a list.</summary>
    public required string Prefix { get; set; }
    public required string TokenHash { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    /// <summary>A personal token acts as this user (never more than the user may).</summary>
    public int? UserId { get; set; }
    /// <summary>A service token belongs to this team and acts with <see cref="Role"/> in it only.</summary>
    public int? TeamId { get; set; }
    public Identity.TeamRole? Role { get; set; }
    /// <summary>A personal token narrowed to reading.</summary>
    public bool ReadOnly { get; set; }
}

/// <summary>A named runs-table view of an experiment: filter, order and columns.</summary>
public sealed class SavedView
{
    public int Id { get; set; }
    public int ExperimentId { get; set; }
    public required string Name { get; set; }
    public string? Filter { get; set; }
    public string? OrderBy { get; set; }
    public string? Columns { get; set; }
    public DateTime CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
}
