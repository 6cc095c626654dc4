using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// The first schema, written by hand as SQL: dotnet-ef's design package cannot be restored here.
/// Column names follow EF's defaults for the entities so no mapping attributes are needed.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261122000001_Initial")]
public sealed class M0001_Initial : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.Sql("""
            CREATE TABLE datasets (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                Name TEXT NOT NULL,
                Description TEXT NULL,
                CreatedAt TEXT NOT NULL,
                CreatedBy TEXT NOT NULL);
            CREATE UNIQUE INDEX IX_datasets_Name ON datasets (Name);

            CREATE TABLE dataset_versions (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                DatasetId INTEGER NOT NULL REFERENCES datasets (Id) ON DELETE CASCADE,
                Version INTEGER NOT NULL,
                Kind TEXT NOT NULL,
                LabelColumn TEXT NULL,
                Rows INTEGER NOT NULL,
                SizeBytes INTEGER NOT NULL,
                Sha256 TEXT NOT NULL,
                ProfileJson TEXT NOT NULL,
                StoragePath TEXT NOT NULL,
                OriginalFileName TEXT NOT NULL,
                CreatedAt TEXT NOT NULL,
                CreatedBy TEXT NOT NULL);
            CREATE UNIQUE INDEX IX_dataset_versions_DatasetId_Version ON dataset_versions (DatasetId, Version);

            CREATE TABLE runs (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                Name TEXT NOT NULL,
                DatasetVersionId INTEGER NOT NULL REFERENCES dataset_versions (Id) ON DELETE CASCADE,
                Template TEXT NOT NULL,
                Epochs INTEGER NOT NULL,
                BatchSize INTEGER NOT NULL,
                LearningRate REAL NOT NULL,
                Optimizer TEXT NOT NULL,
                Seed INTEGER NOT NULL,
                ValidationFraction REAL NOT NULL,
                TestFraction REAL NOT NULL,
                MaxTrainSamples INTEGER NULL,
                Status INTEGER NOT NULL,
                Source TEXT NOT NULL,
                IdempotencyKey TEXT NULL,
                CreatedAt TEXT NOT NULL,
                CreatedBy TEXT NOT NULL,
                StartedAt TEXT NULL,
                EndedAt TEXT NULL,
                LastHeartbeatAt TEXT NULL,
                Progress REAL NOT NULL,
                CurrentEpoch INTEGER NOT NULL,
                Attempt INTEGER NOT NULL,
                Device TEXT NULL,
                StatusMessage TEXT NULL,
                Error TEXT NULL,
                CancelRequested INTEGER NOT NULL,
                WorkerTokenHash TEXT NULL,
                WorkerProcessId INTEGER NULL,
                CheckpointEpoch INTEGER NOT NULL,
                HasModel INTEGER NOT NULL,
                TestAccuracy REAL NULL,
                TestF1Macro REAL NULL,
                EvaluationJson TEXT NULL);
            CREATE UNIQUE INDEX IX_runs_IdempotencyKey ON runs (IdempotencyKey);
            CREATE INDEX IX_runs_Status ON runs (Status);
            CREATE INDEX IX_runs_CreatedAt ON runs (CreatedAt);
            CREATE INDEX IX_runs_DatasetVersionId ON runs (DatasetVersionId);

            CREATE TABLE metrics (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                RunId INTEGER NOT NULL,
                Key TEXT NOT NULL,
                Step INTEGER NOT NULL,
                Value REAL NOT NULL,
                Timestamp TEXT NOT NULL);
            CREATE INDEX IX_metrics_RunId_Key_Step ON metrics (RunId, Key, Step);

            CREATE TABLE registered_models (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                Name TEXT NOT NULL,
                Description TEXT NULL,
                CreatedAt TEXT NOT NULL,
                CreatedBy TEXT NOT NULL);
            CREATE UNIQUE INDEX IX_registered_models_Name ON registered_models (Name);

            CREATE TABLE model_versions (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                RegisteredModelId INTEGER NOT NULL REFERENCES registered_models (Id) ON DELETE CASCADE,
                Version INTEGER NOT NULL,
                RunId INTEGER NOT NULL REFERENCES runs (Id) ON DELETE CASCADE,
                Stage TEXT NOT NULL,
                CreatedAt TEXT NOT NULL,
                CreatedBy TEXT NOT NULL,
                StageChangedAt TEXT NULL,
                StageChangedBy TEXT NULL,
                ArtifactPath TEXT NOT NULL);
            CREATE UNIQUE INDEX IX_model_versions_RegisteredModelId_Version ON model_versions (RegisteredModelId, Version);
            CREATE INDEX IX_model_versions_RunId ON model_versions (RunId);

            CREATE TABLE audit_events (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                At TEXT NOT NULL,
                Actor TEXT NOT NULL,
                Action TEXT NOT NULL,
                Subject TEXT NOT NULL,
                Details TEXT NULL);
            CREATE INDEX IX_audit_events_At ON audit_events (At);
            """);
    }
}
