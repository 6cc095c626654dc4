using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Datasets;

/// <summary>
/// Deletes a dataset with all its versions and stored files. A dataset that runs were trained on stays:
/// their lineage (and the models registered from them) would point at nothing, so the refusal says so.
/// Not registered in DI (the Datasets page builds it in a scope of its own with ActivatorUtilities).
/// </summary>
public sealed class DatasetRemoval(PortalDb db, WriteGate gate, DataPaths paths, CurrentUser user, ILogger<DatasetRemoval> log)
{
    public async Task DeleteAsync(int datasetId, CancellationToken ct)
    {
        var actor = user.Name;
        List<string> folders;
        string name;
        await using (await gate.EnterAsync(db, ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var dataset = await db.Datasets.Include(d => d.Versions).FirstOrDefaultAsync(d => d.Id == datasetId, ct)
                ?? throw PortalException.NotFound($"Dataset {datasetId}");
            name = dataset.Name;
            var versionIds = dataset.Versions.Select(v => v.Id).ToList();
            var runs = await db.Runs.CountAsync(r => r.DatasetVersionId != null && versionIds.Contains(r.DatasetVersionId.Value), ct);
            if (runs > 0)
                throw new PortalException(PortalError.Conflict,
                    runs == 1
                        ? $"Dataset '{name}' is used by a run; it stays so that the run's lineage holds."
                        : (FormattableString)$"Dataset '{name}' is used by {runs} runs; it stays so that their lineage holds.", "dataset");
            folders = dataset.Versions.Select(v => paths.Resolve(v.StoragePath)).ToList();
            db.DatasetVersions.RemoveRange(dataset.Versions);
            db.Datasets.Remove(dataset);
            db.AuditEvents.Add(new AuditEvent
            {
                At = DateTime.UtcNow, Actor = actor, Action = "dataset.deleted", Subject = $"dataset:{name}",
                Details = $"{folders.Count} {(folders.Count == 1 ? "version" : "versions")}",
                Before = AuditStates.Dataset(dataset), After = null,
            });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        // The rows are gone first: a folder left behind by a failed delete is only disk space, never a dataset.
        foreach (var folder in folders)
        {
            try
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                log.LogWarning(ex, "Could not delete the files of a deleted dataset version at {Folder}", folder);
            }
        }
        log.LogInformation("Deleted dataset {Name} ({Versions} versions)", name, folders.Count);
    }
}
