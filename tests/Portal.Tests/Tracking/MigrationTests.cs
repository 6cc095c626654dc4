using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests.Tracking;

/// <summary>
/// A store written by the first release upgrades in place: M0002 rebuilds <c>runs</c>, and the rebuild
/// must neither cascade into model_versions nor lose a metric point.
/// </summary>
public sealed class MigrationTests
{
    [Fact]
    public void A_first_release_store_keeps_its_runs_models_and_metrics_through_the_tracking_migration()
    {
        using var folder = new TempFolder();
        var options = new DbContextOptionsBuilder<PortalDb>().UseSqlite($"Data Source={Path.Combine(folder.Path, "old.db")};Pooling=False").Options;
        using (var db = new PortalDb(options))
        {
            db.GetService<IMigrator>().Migrate("20261122000001_Initial");
            db.Database.ExecuteSqlRaw("""
                INSERT INTO datasets (Id, Name, CreatedAt, CreatedBy) VALUES (1, 'd', '2026-11-01 10:00:00', 'u');
                INSERT INTO dataset_versions (Id, DatasetId, Version, Kind, Rows, SizeBytes, Sha256, ProfileJson, StoragePath, OriginalFileName, CreatedAt, CreatedBy)
                    VALUES (1, 1, 1, 'csv', 10, 100, 'x', '{{}}', 'datasets/1/v1', 'd.csv', '2026-11-01 10:00:00', 'u');
                INSERT INTO runs (Id, Name, DatasetVersionId, Template, Epochs, BatchSize, LearningRate, Optimizer, Seed, ValidationFraction, TestFraction,
                    Status, Source, CreatedAt, CreatedBy, EndedAt, Progress, CurrentEpoch, Attempt, CancelRequested, CheckpointEpoch, HasModel, TestAccuracy, TestF1Macro)
                    VALUES (7, 'old run', 1, 'mlp', 2, 32, 0.001, 'adam', 42, 0.2, 0.2, 2, 'UI', '2026-11-01 10:00:00', 'u', '2026-11-01 10:05:00', 1, 2, 1, 0, 2, 1, 0.91, 0.9);
                INSERT INTO metrics (RunId, Key, Step, Value, Timestamp) VALUES
                    (7, 'val_accuracy', 1, 0.8, '2026-11-01 10:01:00'), (7, 'val_accuracy', 2, 0.9, '2026-11-01 10:02:00'),
                    (7, 'train_loss', 1, 0.5, '2026-11-01 10:01:00'), (7, 'train_loss', 2, 0.3, '2026-11-01 10:02:00');
                INSERT INTO registered_models (Id, Name, CreatedAt, CreatedBy) VALUES (1, 'm', '2026-11-01 10:06:00', 'u');
                INSERT INTO model_versions (RegisteredModelId, Version, RunId, Stage, CreatedAt, CreatedBy, ArtifactPath)
                    VALUES (1, 1, 7, 'Production', '2026-11-01 10:06:00', 'u', 'models/1/v1/model.mop');
                """);
        }
        using (var db = new PortalDb(options))
        {
            db.Database.Migrate();
            Assert.Equal(1, db.ModelVersions.Count(v => v.RunId == 7));
            var run = db.Runs.Single(r => r.Id == 7);
            Assert.Equal(1, run.ExperimentId);
            Assert.Equal(ModelOps.Portal.Runs.RunKind.Training, run.Kind);
            Assert.Equal("adam", db.RunParams.Single(p => p.RunId == 7 && p.Key == "optimizer").Value);
            Assert.Equal(0.001, db.RunParams.Single(p => p.RunId == 7 && p.Key == "learning_rate").NumValue);
            Assert.Equal(4, db.Database.SqlQuery<long>($"SELECT COUNT(*) AS Value FROM metric_points WHERE RunId = 7 AND KeyId IN (SELECT Id FROM metric_keys WHERE Key IN ('val_accuracy', 'train_loss'))").Single());
            var latest = db.Database.SqlQuery<double>($"SELECT l.Value AS Value FROM latest_metrics l JOIN metric_keys k ON k.Id = l.KeyId WHERE l.RunId = 7 ORDER BY k.Key").ToList();
            // test_accuracy, test_f1_macro, train_loss, val_accuracy: the latest step of each.
            Assert.Equal(new[] { 0.91, 0.9, 0.3, 0.9 }, latest);
            Assert.Equal("ok", db.Database.SqlQuery<string>($"PRAGMA integrity_check").AsEnumerable().First());
            Assert.Empty(db.Database.SqlQuery<string>($"SELECT [table] AS Value FROM pragma_foreign_key_check").AsEnumerable());
        }
    }
}
