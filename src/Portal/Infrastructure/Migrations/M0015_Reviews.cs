using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>Approvers' review decisions on a model (Review/ReviewEntities.cs).</summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000015_Reviews")]
public sealed class M0015_Reviews : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            CREATE TABLE model_reviews (
                Id INTEGER NOT NULL CONSTRAINT PK_model_reviews PRIMARY KEY AUTOINCREMENT,
                RegisteredModelId INTEGER NOT NULL REFERENCES registered_models (Id) ON DELETE CASCADE,
                TeamId INTEGER NOT NULL,
                At TEXT NOT NULL,
                Actor TEXT NOT NULL,
                Decision TEXT NOT NULL,
                Note TEXT NOT NULL,
                VersionsJson TEXT NOT NULL
            );
            CREATE INDEX IX_model_reviews_RegisteredModelId_Id ON model_reviews (RegisteredModelId, Id);
            """);
}
