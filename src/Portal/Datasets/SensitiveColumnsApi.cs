using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Datasets;

/// <summary>The body of PUT datasets/{id}/columns/{column}/sensitive.</summary>
public sealed record SensitiveMarkRequest(bool? Sensitive);

/// <summary>A column's state after a mark: sensitive or not, and what the upload's check found in the latest version (null: nothing).</summary>
public sealed record SensitiveColumnView(string Column, bool Sensitive, string? PersonalData);

public static class SensitiveColumnsApi
{
    /// <summary>
    /// PUT /api/v1/datasets/{id}/columns/{column}/sensitive with {"sensitive": true|false}: marks the column (by name,
    /// for every version of the dataset). Refused (400) for a column the latest version lacks.
    /// </summary>
    public static async Task<SensitiveColumnView> Mark(int id, string column, SensitiveMarkRequest? body, DatasetPrivacy privacy, CurrentUser user, CancellationToken ct)
    {
        if (body?.Sensitive is not { } sensitive)
            throw PortalException.Invalid($"The body must be a JSON object with \"sensitive\": true or false.", "sensitive");
        return await privacy.MarkAsync(id, column, sensitive, user.Name, ct);
    }
}
