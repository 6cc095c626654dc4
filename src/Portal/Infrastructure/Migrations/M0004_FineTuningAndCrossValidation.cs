using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// A training run may fine-tune a registered model version (its lineage: <c>ParentModelVersionId</c>) and
/// may cross-validate (the folds and their mean and deviation as camelCase JSON: <c>CrossValidationJson</c>).
/// Both are null for every earlier run, which is what they were, so no backfill is needed. SQLite adds a
/// column with a foreign key in place when its default is null.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000004_FineTuningAndCrossValidation")]
public sealed class M0004_FineTuningAndCrossValidation : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            ALTER TABLE runs ADD COLUMN ParentModelVersionId INTEGER NULL REFERENCES model_versions (Id);
            ALTER TABLE runs ADD COLUMN CrossValidationJson TEXT NULL;
            CREATE INDEX IX_runs_ParentModelVersionId ON runs (ParentModelVersionId);
            """);
}
