using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Serving;

/// <summary>
/// How a registered model is served beyond its Production version: a canary share, a shadow, and the
/// drift settings. One row per model, made on first change; a model without one serves Production only.
/// </summary>
public sealed class ModelDeployment : IServingState
{
    public int Id { get; set; }
    public int RegisteredModelId { get; set; }
    /// <summary>The Staging version that answers <see cref="CanaryPercent"/> of the traffic, or null.</summary>
    public int? CanaryVersion { get; set; }
    public int CanaryPercent { get; set; }
    /// <summary>The version that gets a copy of the traffic whose answers are compared, never returned.</summary>
    public int? ShadowVersion { get; set; }
    /// <summary>PSI above which a feature turns red.</summary>
    public double DriftThreshold { get; set; } = DefaultDriftThreshold;
    /// <summary>How many of the latest served rows the drift compares with the training data.</summary>
    public int DriftWindow { get; set; } = DefaultDriftWindow;
    public DateTime UpdatedAt { get; set; }
    public required string UpdatedBy { get; set; }

    public const double DefaultDriftThreshold = 0.2;
    public const int DefaultDriftWindow = 1000;
}

/// <summary>One version's serving figures for one UTC minute (kept for the configured retention, 30 days by default).</summary>
public sealed class ServingMinute
{
    public long Id { get; set; }
    public int ModelVersionId { get; set; }
    public DateTime Minute { get; set; }
    /// <summary>production, canary or shadow: what the version was doing in that minute.</summary>
    public required string Role { get; set; }
    public long Requests { get; set; }
    public long Errors { get; set; }
    public double? P50Ms { get; set; }
    public double? P95Ms { get; set; }
    public double? P99Ms { get; set; }
    public long ShadowCompared { get; set; }
    public long ShadowAgreed { get; set; }
}

/// <summary>A drift evaluation of one feature (or "(predicted class)") of one version.</summary>
public sealed class DriftPoint
{
    public long Id { get; set; }
    public int ModelVersionId { get; set; }
    public DateTime At { get; set; }
    public required string Feature { get; set; }
    public double Psi { get; set; }
    public bool OverThreshold { get; set; }
}

/// <summary>A version's training-data distributions (JSON of <see cref="DriftBaseline"/>), computed once on first need.</summary>
public sealed class DriftBaselineRow
{
    public int Id { get; set; }
    public int ModelVersionId { get; set; }
    public required string Json { get; set; }
    public DateTime CreatedAt { get; set; }
}

internal sealed class ModelDeploymentConfiguration : IEntityTypeConfiguration<ModelDeployment>
{
    public void Configure(EntityTypeBuilder<ModelDeployment> e)
    {
        e.ToTable("model_deployments");
        e.HasIndex(x => x.RegisteredModelId).IsUnique();
        e.HasOne<Registry.RegisteredModel>().WithMany().HasForeignKey(x => x.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ServingMinuteConfiguration : IEntityTypeConfiguration<ServingMinute>
{
    public void Configure(EntityTypeBuilder<ServingMinute> e)
    {
        e.ToTable("serving_minutes");
        e.HasIndex(x => new { x.ModelVersionId, x.Minute }).IsUnique();
        e.HasIndex(x => x.Minute);
        e.HasOne<Registry.ModelVersion>().WithMany().HasForeignKey(x => x.ModelVersionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DriftPointConfiguration : IEntityTypeConfiguration<DriftPoint>
{
    public void Configure(EntityTypeBuilder<DriftPoint> e)
    {
        e.ToTable("serving_drift");
        e.HasIndex(x => new { x.ModelVersionId, x.At });
        e.HasOne<Registry.ModelVersion>().WithMany().HasForeignKey(x => x.ModelVersionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DriftBaselineConfiguration : IEntityTypeConfiguration<DriftBaselineRow>
{
    public void Configure(EntityTypeBuilder<DriftBaselineRow> e)
    {
        e.ToTable("serving_baselines");
        e.HasIndex(x => x.ModelVersionId).IsUnique();
        e.HasOne<Registry.ModelVersion>().WithMany().HasForeignKey(x => x.ModelVersionId).OnDelete(DeleteBehavior.Cascade);
    }
}
