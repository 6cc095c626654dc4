using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// Experiment tracking at scale (docs/tracking.md): experiments, runs that the portal did not launch,
/// write-once params, tags, metric points keyed by an interned metric name with the latest value per
/// run and key kept current, artifacts, API tokens and saved views.
///
/// <c>runs</c> is rebuilt because SQLite cannot drop a NOT NULL in place (a tracked run has no dataset).
/// The rebuild follows SQLite's documented procedure: foreign keys off outside the transaction, so
/// dropping the old table does not cascade into model_versions, then on again.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261122000002_Tracking")]
public sealed class M0002_Tracking : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.Sql("PRAGMA foreign_keys = 0;", suppressTransaction: true);
        m.Sql("""
            CREATE TABLE experiments (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                Name TEXT NOT NULL,
                Description TEXT NULL,
                Owner TEXT NOT NULL,
                CreatedAt TEXT NOT NULL,
                UpdatedAt TEXT NOT NULL,
                DeletedAt TEXT NULL);
            CREATE UNIQUE INDEX IX_experiments_Name ON experiments (Name);
            INSERT INTO experiments (Id, Name, Description, Owner, CreatedAt, UpdatedAt)
                VALUES (1, 'Default', 'Runs that name no experiment.', 'system', strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'));

            CREATE TABLE experiment_tags (
                ExperimentId INTEGER NOT NULL REFERENCES experiments (Id) ON DELETE CASCADE,
                Key TEXT NOT NULL,
                Value TEXT NOT NULL,
                PRIMARY KEY (ExperimentId, Key)) WITHOUT ROWID;

            CREATE TABLE runs_new (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                ExperimentId INTEGER NOT NULL REFERENCES experiments (Id),
                Kind INTEGER NOT NULL,
                Name TEXT NOT NULL,
                ParentRunId INTEGER NULL REFERENCES runs (Id),
                Notes TEXT NULL,
                DeletedAt TEXT NULL,
                DatasetVersionId INTEGER NULL REFERENCES dataset_versions (Id) ON DELETE CASCADE,
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
            INSERT INTO runs_new
                SELECT Id, 1, 0, Name, NULL, NULL, NULL, DatasetVersionId, Template, Epochs, BatchSize, LearningRate,
                       Optimizer, Seed, ValidationFraction, TestFraction, MaxTrainSamples, Status, Source, IdempotencyKey,
                       CreatedAt, CreatedBy, StartedAt, EndedAt, LastHeartbeatAt, Progress, CurrentEpoch, Attempt, Device,
                       StatusMessage, Error, CancelRequested, WorkerTokenHash, WorkerProcessId, CheckpointEpoch, HasModel,
                       TestAccuracy, TestF1Macro, EvaluationJson
                FROM runs;
            DROP TABLE runs;
            ALTER TABLE runs_new RENAME TO runs;
            CREATE UNIQUE INDEX IX_runs_IdempotencyKey ON runs (IdempotencyKey);
            CREATE INDEX IX_runs_Status ON runs (Status);
            CREATE INDEX IX_runs_CreatedAt ON runs (CreatedAt);
            CREATE INDEX IX_runs_DatasetVersionId ON runs (DatasetVersionId);
            CREATE INDEX IX_runs_ExperimentId_Id ON runs (ExperimentId, Id);
            CREATE INDEX IX_runs_ParentRunId ON runs (ParentRunId);
            CREATE INDEX IX_runs_WorkerTokenHash ON runs (WorkerTokenHash);

            CREATE TABLE run_params (
                RunId INTEGER NOT NULL REFERENCES runs (Id) ON DELETE CASCADE,
                Key TEXT NOT NULL,
                Value TEXT NOT NULL,
                NumValue REAL NULL,
                PRIMARY KEY (RunId, Key)) WITHOUT ROWID;
            CREATE INDEX IX_run_params_Key_Value ON run_params (Key, Value);
            CREATE INDEX IX_run_params_Key_NumValue ON run_params (Key, NumValue);

            CREATE TABLE run_tags (
                RunId INTEGER NOT NULL REFERENCES runs (Id) ON DELETE CASCADE,
                Key TEXT NOT NULL,
                Value TEXT NOT NULL,
                PRIMARY KEY (RunId, Key)) WITHOUT ROWID;
            CREATE INDEX IX_run_tags_Key_Value ON run_tags (Key, Value);

            CREATE TABLE metric_keys (
                Id INTEGER NOT NULL PRIMARY KEY,
                Key TEXT NOT NULL);
            CREATE UNIQUE INDEX IX_metric_keys_Key ON metric_keys (Key);

            CREATE TABLE metric_points (
                RunId INTEGER NOT NULL,
                KeyId INTEGER NOT NULL,
                Step INTEGER NOT NULL,
                Timestamp INTEGER NOT NULL,
                Value REAL NOT NULL,
                PRIMARY KEY (RunId, KeyId, Step, Timestamp, Value)) WITHOUT ROWID;

            CREATE TABLE latest_metrics (
                RunId INTEGER NOT NULL,
                KeyId INTEGER NOT NULL,
                Step INTEGER NOT NULL,
                Timestamp INTEGER NOT NULL,
                Value REAL NOT NULL,
                PRIMARY KEY (RunId, KeyId)) WITHOUT ROWID;
            CREATE INDEX IX_latest_metrics_KeyId_Value ON latest_metrics (KeyId, Value);

            INSERT INTO metric_keys (Key) SELECT DISTINCT Key FROM metrics ORDER BY Key;
            INSERT OR IGNORE INTO metric_points (RunId, KeyId, Step, Timestamp, Value)
                SELECT m.RunId, k.Id, m.Step, CAST(ROUND((julianday(m.Timestamp) - 2440587.5) * 86400000) AS INTEGER), m.Value
                FROM metrics m JOIN metric_keys k ON k.Key = m.Key;
            INSERT INTO latest_metrics (RunId, KeyId, Step, Timestamp, Value)
                SELECT RunId, KeyId, Step, Timestamp, Value FROM (
                    SELECT p.*, ROW_NUMBER() OVER (PARTITION BY RunId, KeyId ORDER BY Step DESC, Timestamp DESC) AS rn
                    FROM metric_points p) WHERE rn = 1;
            DROP TABLE metrics;

            -- A launched run's hyperparameters become params, and its test figures metrics, so that the
            -- filter language reaches every run the same way.
            INSERT INTO run_params (RunId, Key, Value, NumValue)
                SELECT Id, 'template', Template, NULL FROM runs UNION ALL
                SELECT Id, 'optimizer', Optimizer, NULL FROM runs UNION ALL
                SELECT Id, 'epochs', CAST(Epochs AS TEXT), Epochs FROM runs UNION ALL
                SELECT Id, 'batch_size', CAST(BatchSize AS TEXT), BatchSize FROM runs UNION ALL
                SELECT Id, 'learning_rate', CAST(LearningRate AS TEXT), LearningRate FROM runs UNION ALL
                SELECT Id, 'seed', CAST(Seed AS TEXT), Seed FROM runs UNION ALL
                SELECT Id, 'validation_fraction', CAST(ValidationFraction AS TEXT), ValidationFraction FROM runs UNION ALL
                SELECT Id, 'test_fraction', CAST(TestFraction AS TEXT), TestFraction FROM runs UNION ALL
                SELECT Id, 'dataset_version_id', CAST(DatasetVersionId AS TEXT), DatasetVersionId FROM runs WHERE DatasetVersionId IS NOT NULL;
            INSERT OR IGNORE INTO metric_keys (Key) VALUES ('test_accuracy'), ('test_f1_macro');
            INSERT OR REPLACE INTO latest_metrics (RunId, KeyId, Step, Timestamp, Value)
                SELECT r.Id, k.Id, r.Epochs, CAST(ROUND((julianday(COALESCE(r.EndedAt, r.CreatedAt)) - 2440587.5) * 86400000) AS INTEGER), r.TestAccuracy
                FROM runs r, metric_keys k WHERE k.Key = 'test_accuracy' AND r.TestAccuracy IS NOT NULL UNION ALL
                SELECT r.Id, k.Id, r.Epochs, CAST(ROUND((julianday(COALESCE(r.EndedAt, r.CreatedAt)) - 2440587.5) * 86400000) AS INTEGER), r.TestF1Macro
                FROM runs r, metric_keys k WHERE k.Key = 'test_f1_macro' AND r.TestF1Macro IS NOT NULL;
            INSERT OR IGNORE INTO metric_points (RunId, KeyId, Step, Timestamp, Value)
                SELECT l.RunId, l.KeyId, l.Step, l.Timestamp, l.Value FROM latest_metrics l
                JOIN metric_keys k ON k.Id = l.KeyId WHERE k.Key IN ('test_accuracy', 'test_f1_macro');

            CREATE TABLE run_artifacts (
                RunId INTEGER NOT NULL REFERENCES runs (Id) ON DELETE CASCADE,
                Path TEXT NOT NULL,
                SizeBytes INTEGER NOT NULL,
                Sha256 TEXT NOT NULL,
                CreatedAt TEXT NOT NULL,
                PRIMARY KEY (RunId, Path)) WITHOUT ROWID;

            CREATE TABLE api_tokens (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                Name TEXT NOT NULL,
                Owner TEXT NOT NULL,
                Prefix TEXT NOT NULL,
                TokenHash TEXT NOT NULL,
                CreatedAt TEXT NOT NULL,
                ExpiresAt TEXT NULL,
                LastUsedAt TEXT NULL,
                RevokedAt TEXT NULL);
            CREATE UNIQUE INDEX IX_api_tokens_TokenHash ON api_tokens (TokenHash);

            CREATE TABLE saved_views (
                Id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                ExperimentId INTEGER NOT NULL REFERENCES experiments (Id) ON DELETE CASCADE,
                Name TEXT NOT NULL,
                Filter TEXT NULL,
                OrderBy TEXT NULL,
                Columns TEXT NULL,
                CreatedAt TEXT NOT NULL,
                CreatedBy TEXT NOT NULL);
            CREATE INDEX IX_saved_views_ExperimentId ON saved_views (ExperimentId);
            """);
        m.Sql("PRAGMA foreign_keys = 1;", suppressTransaction: true);
    }
}
