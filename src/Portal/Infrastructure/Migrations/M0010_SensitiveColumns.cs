using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// Marks on a dataset's columns (sensitive or not sensitive), kept per dataset and column name so that
/// they hold for every version; deleting the dataset deletes its marks.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000010_SensitiveColumns")]
public sealed class M0010_SensitiveColumns : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            CREATE TABLE dataset_sensitive_columns (
                Id INTEGER NOT NULL CONSTRAINT PK_dataset_sensitive_columns PRIMARY KEY AUTOINCREMENT,
                DatasetId INTEGER NOT NULL CONSTRAINT FK_dataset_sensitive_columns_datasets_DatasetId REFERENCES datasets (Id) ON DELETE CASCADE,
                "Column" TEXT NOT NULL,
                Sensitive INTEGER NOT NULL,
                MarkedBy TEXT NOT NULL,
                MarkedAt TEXT NOT NULL
            );
            CREATE UNIQUE INDEX IX_dataset_sensitive_columns_DatasetId_Column ON dataset_sensitive_columns (DatasetId, "Column");
            """);
}
