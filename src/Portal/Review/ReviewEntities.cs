using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOps.Portal.Review;

public static class ReviewDecisions
{
    public const string SignedOff = "signed-off";
    public const string ChangesRequested = "changes-requested";

    public static readonly string[] All = [SignedOff, ChangesRequested];

    /// <summary>The audit action of a decision: model.review.signed_off or model.review.changes_requested.</summary>
    public static string AuditAction(string decision) => "model.review." + decision.Replace('-', '_');
}

/// <summary>
/// An Approver's decision on a review (docs/review.md): who, when, sign-off or changes requested, a note, and the
/// versions compared with the stage each had at that moment (JSON), so a later stage move does not rewrite it.
/// </summary>
public sealed class ModelReview
{
    public int Id { get; set; }
    public int RegisteredModelId { get; set; }
    public int TeamId { get; set; }
    public DateTime At { get; set; }
    public required string Actor { get; set; }
    /// <summary>One of <see cref="ReviewDecisions.All"/>.</summary>
    public required string Decision { get; set; }
    public required string Note { get; set; }
    /// <summary>[{"version":3,"stage":"Production"}, ...] in camelCase JSON.</summary>
    public required string VersionsJson { get; set; }
}

internal sealed class ModelReviewConfiguration : IEntityTypeConfiguration<ModelReview>
{
    public void Configure(EntityTypeBuilder<ModelReview> e)
    {
        e.ToTable("model_reviews");
        e.HasIndex(x => new { x.RegisteredModelId, x.Id });
        e.HasOne<Registry.RegisteredModel>().WithMany().HasForeignKey(x => x.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
    }
}
