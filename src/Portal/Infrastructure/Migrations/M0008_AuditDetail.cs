using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// The audit trail as a feature (the Audit page and /api/v1/audit): each event can say what the object was
/// before and after the change, which team it belongs to, and its resource type (the part of Subject before
/// the first ':', backfilled here for existing rows with the same rule as AuditEvent.TypeOf), indexed for the
/// page's filters by person, resource type and team-then-time.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000008_AuditDetail")]
public sealed class M0008_AuditDetail : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            ALTER TABLE audit_events ADD COLUMN TeamId INTEGER NULL;
            ALTER TABLE audit_events ADD COLUMN Before TEXT NULL;
            ALTER TABLE audit_events ADD COLUMN After TEXT NULL;
            ALTER TABLE audit_events ADD COLUMN ResourceType TEXT NULL;
            UPDATE audit_events SET ResourceType = CASE
                WHEN Subject = '' THEN NULL
                WHEN instr(Subject, ':') = 0 THEN Subject
                WHEN instr(Subject, ':') = 1 THEN NULL
                ELSE substr(Subject, 1, instr(Subject, ':') - 1) END;
            CREATE INDEX IX_audit_events_Actor ON audit_events (Actor);
            CREATE INDEX IX_audit_events_ResourceType ON audit_events (ResourceType);
            CREATE INDEX IX_audit_events_TeamId_At ON audit_events (TeamId, At);
            """);
}
