using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// Retraining schedules (docs/schedules.md) and their fires. A schedule keeps its dataset's id and name
/// without a foreign key: deleting the dataset must not delete the schedule, whose next fire then fails
/// with that reason. A fire is unique per delivering Hangfire job, so a job delivered twice fires once.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000007_Schedules")]
public sealed class M0007_Schedules : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            CREATE TABLE schedules (
                Id INTEGER NOT NULL CONSTRAINT PK_schedules PRIMARY KEY AUTOINCREMENT,
                Name TEXT NOT NULL,
                Description TEXT NULL,
                DatasetId INTEGER NOT NULL,
                DatasetName TEXT NOT NULL,
                DatasetVersion INTEGER NULL,
                FineTuneModel TEXT NULL,
                FineTuneVersion INTEGER NULL,
                OptionsJson TEXT NOT NULL,
                TargetModel TEXT NOT NULL,
                ExperimentId INTEGER NOT NULL,
                Cron TEXT NULL,
                TimeZone TEXT NOT NULL,
                OnNewDatasetVersion INTEGER NOT NULL,
                AllowOverlap INTEGER NOT NULL,
                Paused INTEGER NOT NULL,
                GateMode TEXT NOT NULL,
                GateMetric TEXT NOT NULL,
                GateMargin REAL NOT NULL,
                CreatedAt TEXT NOT NULL,
                CreatedBy TEXT NOT NULL,
                UpdatedAt TEXT NOT NULL,
                UpdatedBy TEXT NOT NULL
            );
            CREATE UNIQUE INDEX IX_schedules_Name ON schedules (Name);
            CREATE INDEX IX_schedules_DatasetId ON schedules (DatasetId);
            CREATE TABLE schedule_fires (
                Id INTEGER NOT NULL CONSTRAINT PK_schedule_fires PRIMARY KEY AUTOINCREMENT,
                ScheduleId INTEGER NOT NULL CONSTRAINT FK_schedule_fires_schedules_ScheduleId REFERENCES schedules (Id) ON DELETE CASCADE,
                FiredAt TEXT NOT NULL,
                "Trigger" TEXT NOT NULL,
                TriggerDetail TEXT NULL,
                JobId TEXT NULL,
                RunId INTEGER NULL,
                Outcome TEXT NOT NULL,
                Decision TEXT NULL,
                Reason TEXT NULL,
                ReasonJson TEXT NULL,
                Metric TEXT NULL,
                CandidateValue REAL NULL,
                ProductionValue REAL NULL,
                ProductionVersion INTEGER NULL,
                ModelVersion INTEGER NULL,
                DecidedAt TEXT NULL
            );
            CREATE INDEX IX_schedule_fires_ScheduleId_Id ON schedule_fires (ScheduleId, Id);
            CREATE UNIQUE INDEX IX_schedule_fires_ScheduleId_JobId ON schedule_fires (ScheduleId, JobId);
            CREATE INDEX IX_schedule_fires_RunId ON schedule_fires (RunId);
            CREATE INDEX IX_schedule_fires_Outcome ON schedule_fires (Outcome);
            """);
}
