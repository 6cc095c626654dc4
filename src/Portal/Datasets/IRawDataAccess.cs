using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ModelOps.Portal.Datasets;

/// <summary>
/// The one place that decides whether the person acting may see the raw values of a dataset's sensitive
/// columns (and mark columns sensitive). Every masked-or-raw decision of <see cref="DatasetPrivacy"/> asks it.
/// Until roles exist everyone may; sign-in replaces <see cref="EveryoneSeesRawData"/> with the real check
/// (Editors and Admins of the team that owns the dataset).
/// </summary>
public interface IRawDataAccess
{
    Task<bool> MaySeeRawAsync(int datasetId, CancellationToken ct);
}

/// <summary>The default until roles land: everyone may see raw values.</summary>
public sealed class EveryoneSeesRawData : IRawDataAccess
{
    public Task<bool> MaySeeRawAsync(int datasetId, CancellationToken ct) => Task.FromResult(true);
}

public static class DatasetPrivacySetup
{
    /// <summary>
    /// <see cref="DatasetPrivacy"/> and the default <see cref="IRawDataAccess"/> (only when none is registered
    /// yet: a real one registered before or after this call wins).
    /// </summary>
    public static IServiceCollection AddDatasetPrivacy(this IServiceCollection services)
    {
        services.TryAddScoped<IRawDataAccess, EveryoneSeesRawData>();
        services.TryAddScoped<DatasetPrivacy>();
        return services;
    }
}
