using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// A training run keeps its full <c>TrainingOptions</c> as camelCase JSON. The typed columns stay (the
/// pages and search read them); a run written before this migration has no JSON, and its options are
/// rebuilt from those columns when read (<see cref="Runs.RunOptions.Read"/>), so no backfill is needed.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261122000003_RunOptions")]
public sealed class M0003_RunOptions : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("ALTER TABLE runs ADD COLUMN OptionsJson TEXT NULL;");
}
