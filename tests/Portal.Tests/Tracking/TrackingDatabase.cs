using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking.Query;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests.Tracking;

/// <summary>
/// A real SQLite file in a temp folder with the schema of the real migrations, seeded with plain SQL.
/// Statuses and kinds are the stored codes: Queued 0, Running 1, Finished 2, Failed 3, Cancelled 4;
/// training 0, tracked 1.
/// </summary>
public sealed class TrackingDatabase : IDisposable
{
    private readonly TempFolder _folder = new();

    public TrackingDatabase()
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_folder.Path, "tracking.db"),
            Pooling = false,
        }.ToString();
        using (var db = new PortalDb(new DbContextOptionsBuilder<PortalDb>().UseSqlite(connectionString).Options))
        {
            db.Database.Migrate();
        }
        Connection = new SqliteConnection(connectionString);
        Connection.Open();
    }

    public SqliteConnection Connection { get; }

    public int Experiment(string name, bool deleted = false) => Insert(
        "INSERT INTO experiments (Name, Owner, CreatedAt, UpdatedAt, DeletedAt) VALUES (@name, 'alice', @now, @now, @deleted) RETURNING Id",
        ("@name", name), ("@now", "2026-10-01 00:00:00"), ("@deleted", deleted ? "2026-11-20 00:00:00" : null));

    public int Run(int experimentId, string name = "run", int status = 1, int kind = 1, string createdAt = "2026-11-01 10:00:00",
        string? startedAt = null, string? endedAt = null, int? parentRunId = null, string createdBy = "alice", string source = "API",
        bool deleted = false) => Insert(
        """
        INSERT INTO runs (ExperimentId, Kind, Name, ParentRunId, DeletedAt, Template, Epochs, BatchSize, LearningRate, Optimizer, Seed,
            ValidationFraction, TestFraction, Status, Source, CreatedAt, CreatedBy, StartedAt, EndedAt, Progress, CurrentEpoch, Attempt,
            CancelRequested, CheckpointEpoch, HasModel)
        VALUES (@experiment, @kind, @name, @parent, @deleted, '', 0, 0, 0, '', 0, 0, 0, @status, @source, @createdAt, @createdBy,
            @startedAt, @endedAt, 0, 0, 0, 0, 0, 0)
        RETURNING Id
        """,
        ("@experiment", experimentId), ("@kind", kind), ("@name", name), ("@parent", parentRunId),
        ("@deleted", deleted ? "2026-11-20 00:00:00" : null), ("@status", status), ("@source", source), ("@createdAt", createdAt),
        ("@createdBy", createdBy), ("@startedAt", startedAt), ("@endedAt", endedAt));

    /// <summary>A param; NumValue is set when the text is a number, as the logging API does.</summary>
    public void Param(int runId, string key, string value) => Execute(
        "INSERT INTO run_params (RunId, Key, Value, NumValue) VALUES (@run, @key, @value, @num)",
        ("@run", runId), ("@key", key), ("@value", value),
        ("@num", double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null));

    public void Tag(int runId, string key, string value) => Execute(
        "INSERT INTO run_tags (RunId, Key, Value) VALUES (@run, @key, @value)", ("@run", runId), ("@key", key), ("@value", value));

    public void Metric(int runId, string key, double value)
    {
        Execute("INSERT OR IGNORE INTO metric_keys (Key) VALUES (@key)", ("@key", key));
        Execute(
            "INSERT INTO latest_metrics (RunId, KeyId, Step, Timestamp, Value) SELECT @run, Id, 0, 0, @value FROM metric_keys WHERE Key = @key",
            ("@run", runId), ("@key", key), ("@value", value));
    }

    public Task<RunSearchPage> Search(string? filter, params string[] orderBy) =>
        Search(new RunSearchRequest([], filter, orderBy, 1_000, null));

    public Task<RunSearchPage> Search(RunSearchRequest request) => RunSearch.ExecuteAsync(Connection, request, CancellationToken.None);

    public async Task<IReadOnlyList<int>> Ids(string? filter, params string[] orderBy) => (await Search(filter, orderBy)).RunIds;

    private int Insert(string sql, params (string Name, object? Value)[] parameters) =>
        Scalar(sql, parameters) as int? ?? throw new InvalidOperationException("The insert returned no id.");

    public object? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        var value = command.ExecuteScalar();
        return value is long l ? (int)l : value;
    }

    public void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        command.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    public void Dispose()
    {
        Connection.Dispose();
        _folder.Dispose();
    }
}
