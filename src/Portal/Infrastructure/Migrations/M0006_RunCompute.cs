using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// A run's compute use (docs/cost.md): GPU-seconds and CPU core-seconds over all its attempts, null for runs
/// nobody measured (tracked runs, and every run trained before this: their use is unknown, not zero), and the
/// bookkeeping that lets a repeated report of one attempt replace, not add to, that attempt's figures.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000006_RunCompute")]
public sealed class M0006_RunCompute : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            ALTER TABLE runs ADD COLUMN GpuSeconds REAL NULL;
            ALTER TABLE runs ADD COLUMN CpuCoreSeconds REAL NULL;
            ALTER TABLE runs ADD COLUMN ComputeAttempt INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE runs ADD COLUMN PriorGpuSeconds REAL NOT NULL DEFAULT 0;
            ALTER TABLE runs ADD COLUMN PriorCpuCoreSeconds REAL NOT NULL DEFAULT 0;
            CREATE INDEX IX_runs_EndedAt ON runs (EndedAt);
            """);
}
