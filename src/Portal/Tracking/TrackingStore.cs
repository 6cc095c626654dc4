using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Tracking;

public sealed record MetricValue(string Key, long Step, double Value, long Timestamp);

public readonly record struct SeriesPoint(long Step, double Value, long Timestamp);

/// <summary>
/// Where the volume is: params, tags and metric points, written and read with plain SQL over the
/// context's SQLite connection (docs/tracking.md). One batch is one IMMEDIATE transaction taken under
/// the <see cref="WriteGate"/>, so it is all or nothing and never meets "database is locked".
/// Metric names are interned in metric_keys; this singleton caches name → id for committed rows only.
/// </summary>
public sealed class TrackingStore(WriteGate gate)
{
    private readonly ConcurrentDictionary<string, long> _keyIds = new(StringComparer.Ordinal);

    public async Task WriteAsync(PortalDb db, int runId, ValidBatch batch, CancellationToken ct)
    {
        if (batch.IsEmpty) return;
        var created = new List<KeyValuePair<string, long>>();
        await using (await gate.EnterAsync(db, ct))
        {
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                var connection = (SqliteConnection)db.Database.GetDbConnection();
                connection.CreateFunction<long, double>("modelops_f64", BitConverter.Int64BitsToDouble, isDeterministic: true);
                await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
                if (batch.Params.Count > 0) await WriteParamsAsync(connection, tx, runId, batch.Params, ct);
                if (batch.Tags.Count > 0) await WriteTagsAsync(connection, tx, runId, batch.Tags, ct);
                if (batch.Points.Count > 0) await WritePointsAsync(connection, tx, runId, batch.Points, created, ct);
                await tx.CommitAsync(ct);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
        foreach (var (key, id) in created) _keyIds.TryAdd(key, id);
    }

    private static async Task WriteParamsAsync(SqliteConnection c, SqliteTransaction tx, int runId, IReadOnlyDictionary<string, string> values, CancellationToken ct)
    {
        var existing = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var read = Command(c, tx, "SELECT Key, Value FROM run_params WHERE RunId = $run"))
        {
            read.Parameters.AddWithValue("$run", runId);
            await using var reader = await read.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) existing[reader.GetString(0)] = reader.GetString(1);
        }
        await using var insert = Command(c, tx, "INSERT INTO run_params (RunId, Key, Value, NumValue) VALUES ($run, $key, $value, $num)");
        var run = insert.Parameters.AddWithValue("$run", runId);
        var key = insert.Parameters.Add("$key", SqliteType.Text);
        var value = insert.Parameters.Add("$value", SqliteType.Text);
        var num = insert.Parameters.Add("$num", SqliteType.Real);
        foreach (var (k, v) in values)
        {
            if (existing.TryGetValue(k, out var logged))
            {
                if (logged == v) continue; // logging the same value again is a no-op (a retried batch)
                throw new PortalException(PortalError.Conflict,
                    $"Param '{k}' of run {runId} is already '{Shorten(logged)}'; params are write-once, so '{Shorten(v)}' was refused and nothing of this batch was kept.", "params");
            }
            key.Value = k;
            value.Value = v;
            num.Value = TrackingRules.Number(v) is { } n ? n : DBNull.Value;
            await insert.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task WriteTagsAsync(SqliteConnection c, SqliteTransaction tx, int runId, IReadOnlyDictionary<string, string> values, CancellationToken ct)
    {
        await using var upsert = Command(c, tx,
            "INSERT INTO run_tags (RunId, Key, Value) VALUES ($run, $key, $value) ON CONFLICT (RunId, Key) DO UPDATE SET Value = excluded.Value");
        upsert.Parameters.AddWithValue("$run", runId);
        var key = upsert.Parameters.Add("$key", SqliteType.Text);
        var value = upsert.Parameters.Add("$value", SqliteType.Text);
        foreach (var (k, v) in values)
        {
            key.Value = k;
            value.Value = v;
            await upsert.ExecuteNonQueryAsync(ct);
        }
    }

    private async Task WritePointsAsync(SqliteConnection c, SqliteTransaction tx, int runId, IReadOnlyList<PointRow> points,
        List<KeyValuePair<string, long>> created, CancellationToken ct)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in points)
        {
            if (ids.ContainsKey(p.Key)) continue;
            ids[p.Key] = _keyIds.TryGetValue(p.Key, out var cached) ? cached : await KeyIdAsync(c, tx, p.Key, created, ct);
        }

        // One statement and one parameter per batch: the points travel as a compact JSON array that
        // SQLite's json_each unpacks in C. Binding 5,000 parameters cost more than the inserts did.
        // Sorted by the primary key first, so the b-tree is walked in order.
        var rows = points.Select(p => (KeyId: ids[p.Key], Point: p)).OrderBy(r => r.KeyId).ThenBy(r => r.Point.Step).ThenBy(r => r.Point.Timestamp).ToList();
        var best = new Dictionary<long, PointRow>();
        var json = new System.Text.StringBuilder(rows.Count * 40).Append('[');
        foreach (var (keyId, p) in rows)
        {
            if (json.Length > 1) json.Append(',');
            // The value travels as its IEEE-754 bits: SQLite's decimal parser can miss the last bit.
            json.Append('[').Append(keyId).Append(',').Append(p.Step).Append(',').Append(p.Timestamp).Append(',')
                .Append(BitConverter.DoubleToInt64Bits(p.Value)).Append(']');
            if (!best.TryGetValue(keyId, out var current) || p.Step > current.Step || (p.Step == current.Step && p.Timestamp >= current.Timestamp))
                best[keyId] = p;
        }
        json.Append(']');
        await using (var insert = Command(c, tx, """
            INSERT OR IGNORE INTO metric_points (RunId, KeyId, Step, Timestamp, Value)
            SELECT $run, j.value ->> 0, j.value ->> 1, j.value ->> 2, modelops_f64(j.value ->> 3) FROM json_each($points) AS j
            """))
        {
            insert.Parameters.AddWithValue("$run", runId);
            insert.Parameters.AddWithValue("$points", json.ToString());
            await insert.ExecuteNonQueryAsync(ct);
        }

        // The latest value per key moves only forward: a higher step, or the same step logged later.
        await using var latest = Command(c, tx, """
            INSERT INTO latest_metrics (RunId, KeyId, Step, Timestamp, Value) VALUES ($run, $key, $step, $ts, $value)
            ON CONFLICT (RunId, KeyId) DO UPDATE SET Step = excluded.Step, Timestamp = excluded.Timestamp, Value = excluded.Value
            WHERE excluded.Step > latest_metrics.Step
               OR (excluded.Step = latest_metrics.Step AND excluded.Timestamp >= latest_metrics.Timestamp)
            """);
        latest.Parameters.AddWithValue("$run", runId);
        var keyParam = latest.Parameters.Add("$key", SqliteType.Integer);
        var stepParam = latest.Parameters.Add("$step", SqliteType.Integer);
        var tsParam = latest.Parameters.Add("$ts", SqliteType.Integer);
        var valueParam = latest.Parameters.Add("$value", SqliteType.Real);
        foreach (var (keyId, p) in best)
        {
            keyParam.Value = keyId;
            stepParam.Value = p.Step;
            tsParam.Value = p.Timestamp;
            valueParam.Value = p.Value;
            await latest.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task<long> KeyIdAsync(SqliteConnection c, SqliteTransaction tx, string key, List<KeyValuePair<string, long>> created, CancellationToken ct)
    {
        await using var find = Command(c, tx, "SELECT Id FROM metric_keys WHERE Key = $key");
        find.Parameters.AddWithValue("$key", key);
        if (await find.ExecuteScalarAsync(ct) is long id)
        {
            created.Add(new(key, id));
            return id;
        }
        await using var insert = Command(c, tx, "INSERT INTO metric_keys (Key) VALUES ($key) RETURNING Id");
        insert.Parameters.AddWithValue("$key", key);
        var newId = (long)(await insert.ExecuteScalarAsync(ct))!;
        created.Add(new(key, newId));
        return newId;
    }

    /// <summary>The latest value of every metric of each run, for tables and run pages.</summary>
    public static async Task<Dictionary<int, List<MetricValue>>> LatestAsync(PortalDb db, IReadOnlyCollection<int> runIds, CancellationToken ct)
    {
        var result = runIds.Distinct().ToDictionary(id => id, _ => new List<MetricValue>());
        if (result.Count == 0) return result;
        await ReadAsync(db, $"""
            SELECT l.RunId, k.Key, l.Step, l.Value, l.Timestamp FROM latest_metrics l JOIN metric_keys k ON k.Id = l.KeyId
            WHERE l.RunId IN ({string.Join(',', result.Keys)}) ORDER BY l.RunId, k.Key
            """, null, r => result[r.GetInt32(0)].Add(new MetricValue(r.GetString(1), r.GetInt64(2), r.GetDouble(3), r.GetInt64(4))), ct);
        return result;
    }

    public static async Task<Dictionary<int, Dictionary<string, string>>> ParamsAsync(PortalDb db, IReadOnlyCollection<int> runIds, CancellationToken ct) =>
        await PairsAsync(db, "run_params", runIds, ct);

    public static async Task<Dictionary<int, Dictionary<string, string>>> TagsAsync(PortalDb db, IReadOnlyCollection<int> runIds, CancellationToken ct) =>
        await PairsAsync(db, "run_tags", runIds, ct);

    private static async Task<Dictionary<int, Dictionary<string, string>>> PairsAsync(PortalDb db, string table, IReadOnlyCollection<int> runIds, CancellationToken ct)
    {
        var result = runIds.Distinct().ToDictionary(id => id, _ => new Dictionary<string, string>(StringComparer.Ordinal));
        if (result.Count == 0) return result;
        await ReadAsync(db, $"SELECT RunId, Key, Value FROM {table} WHERE RunId IN ({string.Join(',', result.Keys)}) ORDER BY RunId, Key", null,
            r => result[r.GetInt32(0)][r.GetString(1)] = r.GetString(2), ct);
        return result;
    }

    /// <summary>Every metric name logged in the given experiments (all when empty), for column pickers.</summary>
    public static async Task<List<string>> MetricKeysAsync(PortalDb db, IReadOnlyCollection<int> experimentIds, CancellationToken ct)
    {
        var keys = new List<string>();
        var where = experimentIds.Count == 0 ? "" : $"WHERE r.ExperimentId IN ({string.Join(',', experimentIds)})";
        await ReadAsync(db, $"""
            SELECT k.Key FROM metric_keys k WHERE EXISTS (
                SELECT 1 FROM latest_metrics l JOIN runs r ON r.Id = l.RunId {where} {(where == "" ? "WHERE" : "AND")} l.KeyId = k.Id)
            ORDER BY k.Key
            """, null, r => keys.Add(r.GetString(0)), ct);
        return keys;
    }

    public static async Task<List<string>> ParamKeysAsync(PortalDb db, IReadOnlyCollection<int> experimentIds, CancellationToken ct)
    {
        var keys = new List<string>();
        var sql = experimentIds.Count == 0
            ? "SELECT DISTINCT Key FROM run_params ORDER BY Key"
            : $"SELECT DISTINCT p.Key FROM run_params p JOIN runs r ON r.Id = p.RunId WHERE r.ExperimentId IN ({string.Join(',', experimentIds)}) ORDER BY p.Key";
        await ReadAsync(db, sql, null, r => keys.Add(r.GetString(0)), ct);
        return keys;
    }

    /// <summary>Every point of one series in step order (then time), for downsampling; null when the key was never logged.</summary>
    public static async Task<List<SeriesPoint>?> SeriesAsync(PortalDb db, int runId, string key, CancellationToken ct)
    {
        var keyId = await KeyIdOrNullAsync(db, key, ct);
        if (keyId is null) return null;
        // The hot read behind every chart. Microsoft.Data.Sqlite's reader costs about 0.7 µs a row,
        // eight times SQLite's own scan; stepping the statement through SQLitePCL directly keeps a
        // 100,000-point series well inside the 50 ms the history endpoint is allowed.
        var points = new List<SeriesPoint>(1024);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var handle = ((SqliteConnection)db.Database.GetDbConnection()).Handle!;
            const string Sql = "SELECT Step, Value, Timestamp FROM metric_points WHERE RunId = ?1 AND KeyId = ?2 ORDER BY Step, Timestamp, Value";
            if (raw.sqlite3_prepare_v2(handle, Sql, out var statement) != raw.SQLITE_OK)
                throw new InvalidOperationException(raw.sqlite3_errmsg(handle).utf8_to_string());
            using (statement)
            {
                raw.sqlite3_bind_int64(statement, 1, runId);
                raw.sqlite3_bind_int64(statement, 2, keyId.Value);
                int rc;
                while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
                    points.Add(new SeriesPoint(raw.sqlite3_column_int64(statement, 0), raw.sqlite3_column_double(statement, 1), raw.sqlite3_column_int64(statement, 2)));
                if (rc != raw.SQLITE_DONE)
                    throw new InvalidOperationException(raw.sqlite3_errmsg(handle).utf8_to_string());
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        return points;
    }

    /// <summary>
    /// One metric's series for many runs in one statement (runs in id order, each in step order, then time),
    /// for charts that overlay runs: a single range scan per run on the primary key, no round trip per run.
    /// Runs that never logged the key are absent from the result.
    /// </summary>
    public static async Task<Dictionary<int, List<SeriesPoint>>> SeriesOfRunsAsync(PortalDb db, IReadOnlyCollection<int> runIds, string key, CancellationToken ct)
    {
        var result = new Dictionary<int, List<SeriesPoint>>();
        if (runIds.Count == 0) return result;
        var keyId = await KeyIdOrNullAsync(db, key, ct);
        if (keyId is null) return result;
        var ids = string.Join(',', runIds.Distinct().Order());
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            // Stepped through SQLitePCL as in SeriesAsync: the reader's per-row cost is most of a long read.
            var handle = ((SqliteConnection)db.Database.GetDbConnection()).Handle!;
            var sql = $"SELECT RunId, Step, Value, Timestamp FROM metric_points WHERE KeyId = ?1 AND RunId IN ({ids}) ORDER BY RunId, Step, Timestamp, Value";
            if (raw.sqlite3_prepare_v2(handle, sql, out var statement) != raw.SQLITE_OK)
                throw new InvalidOperationException(raw.sqlite3_errmsg(handle).utf8_to_string());
            using (statement)
            {
                raw.sqlite3_bind_int64(statement, 1, keyId.Value);
                List<SeriesPoint>? current = null;
                var currentRun = -1;
                int rc;
                while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
                {
                    ct.ThrowIfCancellationRequested();
                    var run = raw.sqlite3_column_int(statement, 0);
                    if (run != currentRun || current is null)
                    {
                        currentRun = run;
                        result[run] = current = new List<SeriesPoint>(128);
                    }
                    current.Add(new SeriesPoint(raw.sqlite3_column_int64(statement, 1), raw.sqlite3_column_double(statement, 2), raw.sqlite3_column_int64(statement, 3)));
                }
                if (rc != raw.SQLITE_DONE)
                    throw new InvalidOperationException(raw.sqlite3_errmsg(handle).utf8_to_string());
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        return result;
    }

    /// <summary>One page of a series in (step, timestamp, value) order, after the given point.</summary>
    public static async Task<List<SeriesPoint>> SeriesPageAsync(PortalDb db, int runId, string key, SeriesPoint? after, int pageSize, CancellationToken ct)
    {
        var keyId = await KeyIdOrNullAsync(db, key, ct);
        var points = new List<SeriesPoint>();
        if (keyId is null) return points;
        var sql = after is null
            ? "SELECT Step, Value, Timestamp FROM metric_points WHERE RunId = $run AND KeyId = $key ORDER BY Step, Timestamp, Value LIMIT $n"
            : "SELECT Step, Value, Timestamp FROM metric_points WHERE RunId = $run AND KeyId = $key AND (Step, Timestamp, Value) > ($s, $t, $v) ORDER BY Step, Timestamp, Value LIMIT $n";
        await ReadAsync(db, sql, cmd =>
        {
            cmd.Parameters.AddWithValue("$run", runId);
            cmd.Parameters.AddWithValue("$key", keyId.Value);
            cmd.Parameters.AddWithValue("$n", pageSize);
            if (after is { } a)
            {
                cmd.Parameters.AddWithValue("$s", a.Step);
                cmd.Parameters.AddWithValue("$t", a.Timestamp);
                cmd.Parameters.AddWithValue("$v", a.Value);
            }
        }, r => points.Add(new SeriesPoint(r.GetInt64(0), r.GetDouble(1), r.GetInt64(2))), ct);
        return points;
    }

    private static async Task<long?> KeyIdOrNullAsync(PortalDb db, string key, CancellationToken ct)
    {
        long? id = null;
        await ReadAsync(db, "SELECT Id FROM metric_keys WHERE Key = $key", cmd => cmd.Parameters.AddWithValue("$key", key), r => id = r.GetInt64(0), ct);
        return id;
    }

    /// <summary>Runs a read on the context's connection, opening it for the call if EF has not.</summary>
    public static async Task ReadAsync(PortalDb db, string sql, Action<SqliteCommand>? bind, Action<DbDataReader> row, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = (SqliteCommand)db.Database.GetDbConnection().CreateCommand();
            command.CommandText = sql;
            bind?.Invoke(command);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) row(reader);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static SqliteCommand Command(SqliteConnection c, SqliteTransaction tx, string sql)
    {
        var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        return command;
    }

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..77] + "...";
}
