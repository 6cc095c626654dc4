namespace ModelOps.Portal.Registry;

public static class ModelStages
{
    public const string None = "None";
    public const string Staging = "Staging";
    public const string Production = "Production";
    public const string Archived = "Archived";

    public static readonly string[] All = [None, Staging, Production, Archived];
}

public sealed class RegisteredModel
{
    public int Id { get; set; }
    /// <summary>The owning team (docs/identity.md); team 1 owns what existed before teams.</summary>
    public int TeamId { get; set; } = Identity.Team.DefaultId;
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
    public List<ModelVersion> Versions { get; set; } = [];
}

public sealed class ModelVersion
{
    public int Id { get; set; }
    public int RegisteredModelId { get; set; }
    public RegisteredModel? RegisteredModel { get; set; }
    public int Version { get; set; }
    public int RunId { get; set; }
    public Runs.Run? Run { get; set; }
    public required string Stage { get; set; }
    public DateTime CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime? StageChangedAt { get; set; }
    public string? StageChangedBy { get; set; }
    /// <summary>Relative to the data folder: a copy of the run's model package, immutable.</summary>
    public required string ArtifactPath { get; set; }
    /// <summary>A free plain-text description for the model card, editable by Editors (audited).</summary>
    public string? Description { get; set; }
}
