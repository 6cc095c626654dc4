using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Audit;

/// <summary>
/// Fills the owning team of every new audit event that does not name one, from its subject, in one place
/// rather than at each of the writes: "model:churn:v3", "dataset:name:v2", "schedule:x", "experiment:x",
/// "run:12" and "dataset-version:7" name a resource whose team is looked up (names are unique across the
/// portal), first among what the same save adds, then in the store. Team Approvers read their team's
/// events on the Audit page, so an event without a team is one only site Admins see.
/// </summary>
internal static class AuditTeams
{
    public static void Fill(PortalDb db)
    {
        foreach (var entry in db.ChangeTracker.Entries<AuditEvent>().Where(e => e.State == EntityState.Added && e.Entity.TeamId is null).ToList())
            entry.Entity.TeamId = TeamOf(db, entry.Entity.Subject);
    }

    private static int? TeamOf(PortalDb db, string subject)
    {
        var parts = subject.Split(':');
        if (parts.Length < 2) return null;
        var key = parts[1];
        int? id = int.TryParse(key, out var n) ? n : null;
        return parts[0] switch
        {
            "model" => db.RegisteredModels.Local.FirstOrDefault(m => m.Name == key)?.TeamId
                       ?? db.RegisteredModels.Where(m => m.Name == key).Select(m => (int?)m.TeamId).FirstOrDefault(),
            "dataset" => db.Datasets.Local.FirstOrDefault(d => d.Name == key)?.TeamId
                         ?? db.Datasets.Where(d => d.Name == key).Select(d => (int?)d.TeamId).FirstOrDefault(),
            "schedule" => db.Schedules.Local.FirstOrDefault(s => s.Name == key)?.TeamId
                          ?? db.Schedules.Where(s => s.Name == key).Select(s => (int?)s.TeamId).FirstOrDefault(),
            "experiment" when id is { } experiment => db.Experiments.Where(e => e.Id == experiment).Select(e => (int?)e.TeamId).FirstOrDefault(),
            "experiment" => db.Experiments.Local.FirstOrDefault(e => e.Name == key)?.TeamId
                            ?? db.Experiments.Where(e => e.Name == key).Select(e => (int?)e.TeamId).FirstOrDefault(),
            "run" when id is { } run => db.Runs.Where(r => r.Id == run).Select(r => (int?)r.Experiment!.TeamId).FirstOrDefault(),
            "dataset-version" when id is { } version => db.DatasetVersions.Where(v => v.Id == version).Select(v => (int?)v.Dataset!.TeamId).FirstOrDefault(),
            _ => null,
        };
    }
}
