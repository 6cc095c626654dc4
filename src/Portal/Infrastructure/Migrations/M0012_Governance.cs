using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// Registry governance (docs/registry.md): aliases, per-model policies, promotion requests, a stage
/// history and a free description per version. The history is backfilled honestly: intervals are
/// rebuilt from the audit trail's stage changes where it holds them (each change opens an interval
/// and closes the previous one; the first one's earlier stage runs from the version's creation), and
/// a version the trail says nothing about gets one open interval in its current stage from
/// StageChangedAt (or CreatedAt) on. Nothing earlier than what was recorded is invented.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000012_Governance")]
public sealed class M0012_Governance : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            ALTER TABLE model_versions ADD COLUMN Description TEXT NULL;

            CREATE TABLE model_aliases (
                Id INTEGER NOT NULL CONSTRAINT PK_model_aliases PRIMARY KEY AUTOINCREMENT,
                RegisteredModelId INTEGER NOT NULL REFERENCES registered_models (Id) ON DELETE CASCADE,
                Name TEXT NOT NULL,
                Version INTEGER NOT NULL,
                SetAt TEXT NOT NULL,
                SetBy TEXT NOT NULL
            );
            CREATE UNIQUE INDEX IX_model_aliases_RegisteredModelId_Name ON model_aliases (RegisteredModelId, Name);

            CREATE TABLE model_policies (
                RegisteredModelId INTEGER NOT NULL CONSTRAINT PK_model_policies PRIMARY KEY REFERENCES registered_models (Id) ON DELETE CASCADE,
                RequireTwoPeople INTEGER NOT NULL,
                GateMetric TEXT NULL,
                GateThreshold REAL NULL,
                RequireBetterThanProduction INTEGER NOT NULL,
                UpdatedAt TEXT NULL,
                UpdatedBy TEXT NULL
            );

            CREATE TABLE promotion_requests (
                Id INTEGER NOT NULL CONSTRAINT PK_promotion_requests PRIMARY KEY AUTOINCREMENT,
                RegisteredModelId INTEGER NOT NULL REFERENCES registered_models (Id) ON DELETE CASCADE,
                Version INTEGER NOT NULL,
                Status TEXT NOT NULL,
                Note TEXT NULL,
                RequestedAt TEXT NOT NULL,
                RequestedBy TEXT NOT NULL,
                DecidedAt TEXT NULL,
                DecidedBy TEXT NULL,
                DecisionNote TEXT NULL,
                GatesJson TEXT NOT NULL
            );
            CREATE INDEX IX_promotion_requests_RegisteredModelId_Version_Status ON promotion_requests (RegisteredModelId, Version, Status);

            CREATE TABLE model_stage_history (
                Id INTEGER NOT NULL CONSTRAINT PK_model_stage_history PRIMARY KEY AUTOINCREMENT,
                RegisteredModelId INTEGER NOT NULL REFERENCES registered_models (Id) ON DELETE CASCADE,
                Version INTEGER NOT NULL,
                Stage TEXT NOT NULL,
                "From" TEXT NOT NULL,
                "To" TEXT NULL,
                By TEXT NOT NULL,
                Why TEXT NULL,
                RequestId INTEGER NULL
            );
            CREATE INDEX IX_model_stage_history_RegisteredModelId_Stage_From ON model_stage_history (RegisteredModelId, Stage, "From");
            CREATE INDEX IX_model_stage_history_RegisteredModelId_Version_To ON model_stage_history (RegisteredModelId, Version, "To");

            WITH changes AS (
                SELECT v.RegisteredModelId, v.Version, v.CreatedAt, v.CreatedBy, a.Id AS EventId, a.At, a.Actor, a.Before, a.After, a.Details
                FROM audit_events a
                JOIN registered_models rm ON substr(a.Subject, 1, length(rm.Name) + 8) = 'model:' || rm.Name || ':v'
                JOIN model_versions v ON v.RegisteredModelId = rm.Id AND a.Subject = 'model:' || rm.Name || ':v' || v.Version
                WHERE a.Action = 'model.stage.changed' AND a.Before IS NOT NULL AND a.After IS NOT NULL
            ), ordered AS (
                SELECT *,
                    LEAD(At) OVER (PARTITION BY RegisteredModelId, Version ORDER BY At, EventId) AS NextAt,
                    ROW_NUMBER() OVER (PARTITION BY RegisteredModelId, Version ORDER BY At, EventId) AS N
                FROM changes
            )
            INSERT INTO model_stage_history (RegisteredModelId, Version, Stage, "From", "To", By, Why, RequestId)
            SELECT RegisteredModelId, Version, Before, CreatedAt, At, CreatedBy, 'registered (rebuilt from the audit trail)', NULL FROM ordered WHERE N = 1
            UNION ALL
            SELECT RegisteredModelId, Version, After, At, NextAt, Actor, Details, NULL FROM ordered;

            -- Where the trail's last stage is not the version's stage now, the trail stops there.
            UPDATE model_stage_history SET "To" = (
                SELECT COALESCE(v.StageChangedAt, v.CreatedAt) FROM model_versions v
                WHERE v.RegisteredModelId = model_stage_history.RegisteredModelId AND v.Version = model_stage_history.Version)
            WHERE "To" IS NULL AND Stage <> (
                SELECT v.Stage FROM model_versions v
                WHERE v.RegisteredModelId = model_stage_history.RegisteredModelId AND v.Version = model_stage_history.Version);

            INSERT INTO model_stage_history (RegisteredModelId, Version, Stage, "From", "To", By, Why, RequestId)
            SELECT v.RegisteredModelId, v.Version, v.Stage, COALESCE(v.StageChangedAt, v.CreatedAt), NULL, COALESCE(v.StageChangedBy, v.CreatedBy), 'backfilled from the current stage', NULL
            FROM model_versions v
            WHERE NOT EXISTS (SELECT 1 FROM model_stage_history h WHERE h.RegisteredModelId = v.RegisteredModelId AND h.Version = v.Version AND h."To" IS NULL);
            """);
}
