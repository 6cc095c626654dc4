using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOps.Portal.Registry;

/// <summary>A free name ("champion", "challenger") pointing at one version of a model; every move is audited.</summary>
public sealed class ModelAlias
{
    public int Id { get; set; }
    public int RegisteredModelId { get; set; }
    public required string Name { get; set; }
    public int Version { get; set; }
    public DateTime SetAt { get; set; }
    public required string SetBy { get; set; }
}

/// <summary>A model's governance policy (docs/registry.md): who may approve, and the gates a version must pass for Production.</summary>
public sealed class ModelPolicy
{
    /// <summary>One row per model, keyed by it; a model without a row has the default (no gates, one person may request and approve).</summary>
    public int RegisteredModelId { get; set; }
    public bool RequireTwoPeople { get; set; }
    /// <summary>One of <see cref="GateMetrics"/>, or null for no metric gate.</summary>
    public string? GateMetric { get; set; }
    public double? GateThreshold { get; set; }
    public bool RequireBetterThanProduction { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}

public static class GateMetrics
{
    public const string Accuracy = "accuracy";
    public const string F1Macro = "f1_macro";
    public const string Rmse = "rmse";
    public const string R2 = "r2";
    public static readonly string[] All = [Accuracy, F1Macro, Rmse, R2];

    /// <summary>RMSE is better when lower; the others when higher.</summary>
    public static bool LowerIsBetter(string metric) => metric == Rmse;
}

public static class PromotionStatus
{
    public const string Open = "Open";
    public const string Approved = "Approved";
    public const string Rejected = "Rejected";
}

/// <summary>An Editor's request to move a version to Production, decided by an Approver of the model's team.</summary>
public sealed class PromotionRequest
{
    public int Id { get; set; }
    public int RegisteredModelId { get; set; }
    public int Version { get; set; }
    public required string Status { get; set; }
    public string? Note { get; set; }
    public DateTime RequestedAt { get; set; }
    public required string RequestedBy { get; set; }
    public DateTime? DecidedAt { get; set; }
    public string? DecidedBy { get; set; }
    public string? DecisionNote { get; set; }
    /// <summary>The gates as last evaluated (at the request, then again at the decision): a JSON array of <see cref="GateResult"/>.</summary>
    public required string GatesJson { get; set; }
}

/// <summary>One gate's outcome with its figures: what the candidate scored, what it was held against.</summary>
public sealed record GateResult(string Gate, bool Passed, string Detail, string? Metric = null, double? Candidate = null, double? Reference = null, int? ReferenceVersion = null);

/// <summary>
/// One interval a version spent in a stage: written by every stage change (they all go through
/// <see cref="RegistryService.PromoteAsync"/>), <see cref="To"/> null while it still holds.
/// </summary>
public sealed class StageInterval
{
    public long Id { get; set; }
    public int RegisteredModelId { get; set; }
    public int Version { get; set; }
    public required string Stage { get; set; }
    public DateTime From { get; set; }
    public DateTime? To { get; set; }
    public required string By { get; set; }
    public string? Why { get; set; }
    public int? RequestId { get; set; }
}

internal sealed class ModelAliasConfiguration : IEntityTypeConfiguration<ModelAlias>
{
    public void Configure(EntityTypeBuilder<ModelAlias> e)
    {
        e.ToTable("model_aliases");
        e.HasIndex(x => new { x.RegisteredModelId, x.Name }).IsUnique();
        e.HasOne<RegisteredModel>().WithMany().HasForeignKey(x => x.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ModelPolicyConfiguration : IEntityTypeConfiguration<ModelPolicy>
{
    public void Configure(EntityTypeBuilder<ModelPolicy> e)
    {
        e.ToTable("model_policies");
        e.HasKey(x => x.RegisteredModelId);
        e.Property(x => x.RegisteredModelId).ValueGeneratedNever();
        e.HasOne<RegisteredModel>().WithOne().HasForeignKey<ModelPolicy>(x => x.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PromotionRequestConfiguration : IEntityTypeConfiguration<PromotionRequest>
{
    public void Configure(EntityTypeBuilder<PromotionRequest> e)
    {
        e.ToTable("promotion_requests");
        e.HasIndex(x => new { x.RegisteredModelId, x.Version, x.Status });
        e.HasOne<RegisteredModel>().WithMany().HasForeignKey(x => x.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class StageIntervalConfiguration : IEntityTypeConfiguration<StageInterval>
{
    public void Configure(EntityTypeBuilder<StageInterval> e)
    {
        e.ToTable("model_stage_history");
        e.HasIndex(x => new { x.RegisteredModelId, x.Stage, x.From });
        e.HasIndex(x => new { x.RegisteredModelId, x.Version, x.To });
        e.HasOne<RegisteredModel>().WithMany().HasForeignKey(x => x.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
    }
}
