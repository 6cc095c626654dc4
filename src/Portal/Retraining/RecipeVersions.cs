using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Retraining;

/// <summary>
/// Which dataset version and which model version a recipe means today: asked when the recipe is saved
/// (to check it) and at every fire (to run it), so both read the recipe the same way.
/// </summary>
public static class RecipeVersions
{
    /// <summary>The pinned version of the dataset, else its latest; null when there is none.</summary>
    public static Task<Datasets.DatasetVersion?> DatasetVersionAsync(PortalDb db, int datasetId, int? pinned, CancellationToken ct) =>
        db.DatasetVersions.AsNoTracking()
            .Where(v => v.DatasetId == datasetId && (pinned == null || v.Version == pinned))
            .OrderByDescending(v => v.Version).FirstOrDefaultAsync(ct);

    public static ErrorMessage NoDatasetVersion(string dataset, int? pinned) => pinned is { } version
        ? ErrorMessage.Of($"Dataset '{dataset}' has no version {version}.")
        : ErrorMessage.Of($"Dataset '{dataset}' has no versions.");

    /// <summary>The version to fine-tune: the chosen one, else the model's Production version, else its latest; null when there is none.</summary>
    public static async Task<ModelVersionRef?> FineTuneAsync(PortalDb db, string model, int? chosen, CancellationToken ct)
    {
        var versions = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModel!.Name == model)
            .Select(v => new { v.Version, v.Stage }).ToListAsync(ct);
        var found = chosen is { } wanted ? versions.FirstOrDefault(v => v.Version == wanted)
            : versions.FirstOrDefault(v => v.Stage == Registry.ModelStages.Production) ?? versions.MaxBy(v => v.Version);
        return found is null ? null : new ModelVersionRef(model, found.Version);
    }

    public static ErrorMessage NoFineTuneVersion(string model, int? chosen) => chosen is { } version
        ? ErrorMessage.Of($"Model '{model}' has no version {version} to fine-tune.")
        : ErrorMessage.Of($"Model '{model}' has no versions to fine-tune.");
}
