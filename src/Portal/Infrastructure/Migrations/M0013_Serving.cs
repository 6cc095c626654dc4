using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// Serving beyond Production (Serving/ServingEntities.cs): a model's canary, shadow and drift settings,
/// per-version per-minute figures (bounded by the flusher's retention), drift points over time and each
/// version's training-data baseline.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000013_Serving")]
public sealed class M0013_Serving : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            CREATE TABLE model_deployments (
                Id INTEGER NOT NULL CONSTRAINT PK_model_deployments PRIMARY KEY AUTOINCREMENT,
                RegisteredModelId INTEGER NOT NULL CONSTRAINT FK_model_deployments_registered_models_RegisteredModelId REFERENCES registered_models (Id) ON DELETE CASCADE,
                CanaryVersion INTEGER NULL,
                CanaryPercent INTEGER NOT NULL,
                ShadowVersion INTEGER NULL,
                DriftThreshold REAL NOT NULL,
                DriftWindow INTEGER NOT NULL,
                UpdatedAt TEXT NOT NULL,
                UpdatedBy TEXT NOT NULL
            );
            CREATE UNIQUE INDEX IX_model_deployments_RegisteredModelId ON model_deployments (RegisteredModelId);

            CREATE TABLE serving_minutes (
                Id INTEGER NOT NULL CONSTRAINT PK_serving_minutes PRIMARY KEY AUTOINCREMENT,
                ModelVersionId INTEGER NOT NULL CONSTRAINT FK_serving_minutes_model_versions_ModelVersionId REFERENCES model_versions (Id) ON DELETE CASCADE,
                Minute TEXT NOT NULL,
                Role TEXT NOT NULL,
                Requests INTEGER NOT NULL,
                Errors INTEGER NOT NULL,
                P50Ms REAL NULL,
                P95Ms REAL NULL,
                P99Ms REAL NULL,
                ShadowCompared INTEGER NOT NULL,
                ShadowAgreed INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX IX_serving_minutes_ModelVersionId_Minute ON serving_minutes (ModelVersionId, Minute);
            CREATE INDEX IX_serving_minutes_Minute ON serving_minutes (Minute);

            CREATE TABLE serving_drift (
                Id INTEGER NOT NULL CONSTRAINT PK_serving_drift PRIMARY KEY AUTOINCREMENT,
                ModelVersionId INTEGER NOT NULL CONSTRAINT FK_serving_drift_model_versions_ModelVersionId REFERENCES model_versions (Id) ON DELETE CASCADE,
                At TEXT NOT NULL,
                Feature TEXT NOT NULL,
                Psi REAL NOT NULL,
                OverThreshold INTEGER NOT NULL
            );
            CREATE INDEX IX_serving_drift_ModelVersionId_At ON serving_drift (ModelVersionId, At);

            CREATE TABLE serving_baselines (
                Id INTEGER NOT NULL CONSTRAINT PK_serving_baselines PRIMARY KEY AUTOINCREMENT,
                ModelVersionId INTEGER NOT NULL CONSTRAINT FK_serving_baselines_model_versions_ModelVersionId REFERENCES model_versions (Id) ON DELETE CASCADE,
                Json TEXT NOT NULL,
                CreatedAt TEXT NOT NULL
            );
            CREATE UNIQUE INDEX IX_serving_baselines_ModelVersionId ON serving_baselines (ModelVersionId);
            """);
}
