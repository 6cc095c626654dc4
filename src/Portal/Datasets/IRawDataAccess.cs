using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ModelOps.Portal.Datasets;

/// <summary>
/// The one place that decides whether the person acting may see the raw values of a dataset's sensitive
/// columns (and mark columns sensitive). Every masked-or-raw decision of <see cref="DatasetPrivacy"/> asks it.
/// Until roles exist everyone may; sign-in replaces <see cref="EditorsSeeRawData"/> with the real check
/// (Editors and Admins of the team that owns the dataset).
/// </summary>
public interface IRawDataAccess
{
    Task<bool> MaySeeRawAsync(int datasetId, CancellationToken ct);
}

/// <summary>The default until roles land: everyone may see raw values.</summary>
/// <summary>Editors and Admins (and Approvers, who hold the Editor's rights) of the team that owns the dataset see raw values; Viewers see them masked.</summary>
public sealed class EditorsSeeRawData(Identity.Access access, Microsoft.EntityFrameworkCore.IDbContextFactory<Infrastructure.PortalDb> dbs) : IRawDataAccess
{
    public async Task<bool> MaySeeRawAsync(int datasetId, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var team = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstOrDefaultAsync(db.Datasets.Where(d => d.Id == datasetId).Select(d => (int?)d.TeamId), ct);
        return team is { } owner && await access.HasAsync(owner, Identity.TeamRole.Editor, ct);
    }
}

public static class DatasetPrivacySetup
{
    /// <summary>
    /// <see cref="DatasetPrivacy"/> and the default <see cref="IRawDataAccess"/> (only when none is registered
    /// yet: a real one registered before or after this call wins).
    /// </summary>
    public static IServiceCollection AddDatasetPrivacy(this IServiceCollection services)
    {
        services.TryAddScoped<IRawDataAccess, EditorsSeeRawData>();
        services.TryAddScoped<DatasetPrivacy>();
        return services;
    }
}
