using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Audit;

/// <summary>
/// The "before" and "after" of an audited change, as short JSON, for the write sites whose object has more than
/// one field. Built from the change tracker, so the write site calls it in its AuditEvent initializer: the
/// original values are still there until SaveChanges.
/// </summary>
public static class AuditStates
{
    private static readonly JsonSerializerOptions Json = new()
    {
        // Kept readable in every language: the page and the CSV show it as text, never as HTML.
        Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
    };

    /// <summary>An experiment's name, description and tags, as loaded (<paramref name="original"/>) or as about to be saved.</summary>
    public static string Experiment(PortalDb db, Experiment experiment, bool original)
    {
        db.ChangeTracker.DetectChanges();
        var entry = db.Entry(experiment);
        var name = original ? entry.Property(e => e.Name).OriginalValue : experiment.Name;
        var description = original ? entry.Property(e => e.Description).OriginalValue : experiment.Description;
        var tags = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (original)
        {
            foreach (var tag in db.ChangeTracker.Entries<ExperimentTag>())
            {
                if (tag.State is Microsoft.EntityFrameworkCore.EntityState.Added or Microsoft.EntityFrameworkCore.EntityState.Detached) continue;
                if (tag.Property(t => t.ExperimentId).OriginalValue != experiment.Id) continue;
                tags[tag.Property(t => t.Key).OriginalValue] = tag.Property(t => t.Value).OriginalValue;
            }
        }
        else
        {
            foreach (var tag in experiment.Tags) tags[tag.Key] = tag.Value;
        }
        return JsonSerializer.Serialize(new { name, description, tags }, Json);
    }

    /// <summary>A dataset's name and the versions it held.</summary>
    public static string Dataset(Dataset dataset) =>
        JsonSerializer.Serialize(new { name = dataset.Name, versions = dataset.Versions.Select(v => v.Version).Order().ToList() }, Json);
}
