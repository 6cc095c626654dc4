using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>The outbox of events a team's webhooks are told about (Notifications/PortalEvent.cs).</summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000011_Events")]
public sealed class M0011_Events : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            CREATE TABLE portal_events (
                Id INTEGER NOT NULL CONSTRAINT PK_portal_events PRIMARY KEY AUTOINCREMENT,
                At TEXT NOT NULL,
                TeamId INTEGER NOT NULL,
                Type TEXT NOT NULL,
                Subject TEXT NOT NULL,
                Actor TEXT NOT NULL,
                Data TEXT NOT NULL
            );
            CREATE INDEX IX_portal_events_TeamId_Id ON portal_events (TeamId, Id);
            """);
}
