using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>M0012 rebuilds the stage history from the audit trail's stage changes, and from the current stage where the trail is silent.</summary>
public sealed class GovernanceMigrationTests
{
    [Fact]
    public void The_history_is_rebuilt_from_audited_stage_changes_and_current_stages()
    {
        using var folder = new TempFolder();
        var options = new DbContextOptionsBuilder<PortalDb>().UseSqlite($"Data Source={Path.Combine(folder.Path, "old.db")};Pooling=False").Options;
        using (var db = new PortalDb(options))
        {
            db.GetService<IMigrator>().Migrate("20261201000011_Events");
            db.Database.ExecuteSqlRaw("""
                PRAGMA foreign_keys = OFF;
                INSERT INTO registered_models (Id, Name, CreatedAt, CreatedBy, TeamId) VALUES (1, 'm', '2026-11-01 10:00:00', 'u', 1);
                INSERT INTO model_versions (RegisteredModelId, Version, RunId, Stage, CreatedAt, CreatedBy, StageChangedAt, StageChangedBy, ArtifactPath)
                VALUES (1, 1, 1, 'Archived', '2026-11-01 10:00:00', 'u', '2026-11-20 09:00:00', 'amy', 'a'),
                       (1, 2, 2, 'Production', '2026-11-02 10:00:00', 'u', '2026-11-20 09:00:00', 'amy', 'b'),
                       (1, 3, 3, 'Staging', '2026-11-03 10:00:00', 'u', '2026-11-25 09:00:00', 'bo', 'c');
                INSERT INTO audit_events (At, Actor, Action, Subject, Details, Before, After, ResourceType, TeamId) VALUES
                    ('2026-11-10 09:00:00', 'amy', 'model.stage.changed', 'model:m:v1', 'None -> Production', 'None', 'Production', 'model', 1),
                    ('2026-11-20 09:00:00', 'amy', 'model.stage.changed', 'model:m:v1', 'Production -> Archived (replaced by v2)', 'Production', 'Archived', 'model', 1),
                    ('2026-11-20 09:00:00', 'amy', 'model.stage.changed', 'model:m:v2', 'None -> Production', 'None', 'Production', 'model', 1);
                """);
        }
        using (var db = new PortalDb(options))
        {
            db.Database.Migrate();
            var rows = db.Set<Registry.StageInterval>().OrderBy(h => h.Version).ThenBy(h => h.From).ToList()
                .Select(h => $"v{h.Version} {h.Stage} {h.From:MM-dd HH} {(h.To is { } to ? to.ToString("MM-dd HH") : "now")} {h.By}").ToList();
            Assert.Equal([
                "v1 None 11-01 10 11-10 09 u", "v1 Production 11-10 09 11-20 09 amy", "v1 Archived 11-20 09 now amy",
                "v2 None 11-02 10 11-20 09 u", "v2 Production 11-20 09 now amy",
                "v3 Staging 11-25 09 now bo"], rows);
        }
    }
}
