using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// Training runs are delivered by Hangfire: each remembers its job (<c>JobId</c>, so a cancel can
/// delete it and a restart does not enqueue it twice) and its slot queue (<c>gpu</c> or <c>cpu</c>).
/// Runs queued under Quartz have neither; the start-up recovery gives every Queued run a job, so
/// nothing queued before the move is lost.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000005_RunJobs")]
public sealed class M0005_RunJobs : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            ALTER TABLE runs ADD COLUMN JobId TEXT NULL;
            ALTER TABLE runs ADD COLUMN Queue TEXT NULL;
            """);
}
