using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;

namespace ModelOps.Benchmarks.Tracking;

public sealed record DiagnosticResult(string Name, double PointsPerSecond, double CpuMicrosPerPoint, string Detail);

/// <summary>
/// Where the ingest time goes, without touching the portal: (1) the portal's cost to receive, parse and
/// validate a batch with no database work (a batch whose last key is invalid is refused with a 400
/// after the whole body has been read and checked), and (2) SQLite's own ceiling for the same rows with
/// the same statements, in this process on the same disk, one writer as the portal's write gate allows.
/// </summary>
public sealed class Diagnostics(BenchOptions options, PortalApi api, Workload workload, CpuMeter cpu)
{
    public async Task<List<DiagnosticResult>> RunAsync(int runId, string dataDirectory)
    {
        var results = new List<DiagnosticResult> { await ParseOnlyAsync(runId) };
        var schema = ReadSchema(Path.Combine(dataDirectory, "modelops.db"));
        foreach (var synchronous in new[] { "DEFAULT", "NORMAL" })
            results.Add(SqliteCeiling(schema, synchronous, dataDirectory));
        foreach (var r in results) Console.WriteLine($"[diagnostics] {r.Name}: {r.PointsPerSecond:N0} points/s, {r.CpuMicrosPerPoint:0.00} CPU-µs/point; {r.Detail}");
        return results;
    }

    private async Task<DiagnosticResult> ParseOnlyAsync(int runId)
    {
        const int Requests = 300;
        var points = options.Batch;
        var start = cpu.Sample();
        var clock = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            var buffer = new ArrayBufferWriter<byte>(128 * 1024);
            while (Interlocked.Increment(ref next) < Requests)
            {
                buffer.ResetWrittenCount();
                workload.WriteLogBatch(buffer, 0, 0, points / options.Metrics, options.Metrics, options.Steps);
                // Make the last key one the rules refuse ("throughput" → "!hroughput"), same length, so every point before it is parsed and checked.
                var body = buffer.WrittenSpan.ToArray();
                body[body.AsSpan().LastIndexOf("\"key\":\""u8) + 7] = (byte)'!';
                using var response = await api.Http.PostAsync($"/api/v1/runs/{runId}/log-batch", PortalApi.Body(body));
                if (response.StatusCode != HttpStatusCode.BadRequest)
                    throw new BenchException($"parse-only batch: expected 400, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        })));
        var share = cpu.Sample().Since(start);
        var total = (double)Requests * points;
        return new DiagnosticResult("portal: HTTP + JSON + validation, no database (400 at the last point)",
            total / clock.Elapsed.TotalSeconds, share.PortalCores * share.WallSeconds / total * 1e6,
            $"{Requests} batches of {points}; {share}");
    }

    private static List<string> ReadSchema(string databasePath)
    {
        using var c = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = "SELECT sql FROM sqlite_master WHERE tbl_name IN ('metric_points', 'latest_metrics') AND sql IS NOT NULL ORDER BY type DESC";
        using var reader = command.ExecuteReader();
        var ddl = new List<string>();
        while (reader.Read()) ddl.Add(reader.GetString(0));
        return ddl;
    }

    /// <summary>The portal's statements (100-row INSERT OR IGNORE, then one latest-value upsert per key) at 1,000 points a transaction.</summary>
    private DiagnosticResult SqliteCeiling(List<string> schema, string synchronous, string dataDirectory)
    {
        const int Batches = 500, RowsPerStatement = 100;
        var path = Path.Combine(dataDirectory, $"ceiling-{synchronous}.db");
        try
        {
            using var c = new SqliteConnection($"Data Source={path};Pooling=False");
            c.Open();
            // DEFAULT: whatever this SQLite build does with no pragma, which is what the portal's connections get.
            Exec(c, synchronous == "DEFAULT" ? "PRAGMA journal_mode=WAL;" : $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous};");
            using (var read = c.CreateCommand())
            {
                read.CommandText = "PRAGMA synchronous";
                synchronous = ((long)read.ExecuteScalar()!) switch { 0 => "OFF", 1 => "NORMAL", 2 => "FULL", 3 => "EXTRA", var n => n.ToString() }
                    + (synchronous == "DEFAULT" ? " (the default, as the portal runs)" : " (set)");
            }
            foreach (var ddl in schema) Exec(c, ddl);
            var insertSql = new StringBuilder("INSERT OR IGNORE INTO metric_points (RunId, KeyId, Step, Timestamp, Value) VALUES ");
            for (var i = 0; i < RowsPerStatement; i++) insertSql.Append(i > 0 ? "," : "").Append($"($r{i},$k{i},$s{i},$t{i},$v{i})");
            var random = new Random(options.Seed);
            var perBatchSteps = options.Batch / options.Metrics;
            var clock = Stopwatch.StartNew();
            var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            long points = 0;
            for (var b = 0; b < Batches; b++)
            {
                using var tx = c.BeginTransaction();
                using var insert = c.CreateCommand();
                insert.Transaction = tx;
                insert.CommandText = insertSql.ToString();
                for (var i = 0; i < RowsPerStatement; i++)
                {
                    insert.Parameters.Add($"$r{i}", SqliteType.Integer);
                    insert.Parameters.Add($"$k{i}", SqliteType.Integer);
                    insert.Parameters.Add($"$s{i}", SqliteType.Integer);
                    insert.Parameters.Add($"$t{i}", SqliteType.Integer);
                    insert.Parameters.Add($"$v{i}", SqliteType.Real);
                }
                var row = 0;
                for (var step = 0; step < perBatchSteps; step++)
                    for (var k = 1; k <= options.Metrics; k++)
                    {
                        var at = row * 5;
                        insert.Parameters[at].Value = b + 1;
                        insert.Parameters[at + 1].Value = k;
                        insert.Parameters[at + 2].Value = step;
                        insert.Parameters[at + 3].Value = 1_767_225_600_000L + step * 250L;
                        insert.Parameters[at + 4].Value = random.NextDouble();
                        if (++row == RowsPerStatement)
                        {
                            insert.ExecuteNonQuery();
                            points += row;
                            row = 0;
                        }
                    }
                using var latest = c.CreateCommand();
                latest.Transaction = tx;
                latest.CommandText = """
                    INSERT INTO latest_metrics (RunId, KeyId, Step, Timestamp, Value) VALUES ($run, $key, $step, $ts, $value)
                    ON CONFLICT (RunId, KeyId) DO UPDATE SET Step = excluded.Step, Timestamp = excluded.Timestamp, Value = excluded.Value
                    WHERE excluded.Step > latest_metrics.Step OR (excluded.Step = latest_metrics.Step AND excluded.Timestamp >= latest_metrics.Timestamp)
                    """;
                latest.Parameters.AddWithValue("$run", b + 1);
                var key = latest.Parameters.Add("$key", SqliteType.Integer);
                latest.Parameters.AddWithValue("$step", perBatchSteps - 1);
                latest.Parameters.AddWithValue("$ts", 1_767_225_600_000L);
                latest.Parameters.AddWithValue("$value", 0.5);
                for (var k = 1; k <= options.Metrics; k++)
                {
                    key.Value = k;
                    latest.ExecuteNonQuery();
                }
                tx.Commit();
            }
            var seconds = clock.Elapsed.TotalSeconds;
            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds;
            return new DiagnosticResult($"SQLite alone, same statements, synchronous={synchronous}",
                points / seconds, cpuSeconds / points * 1e6,
                $"{Batches} transactions of {options.Batch} points, one writer, fresh table; {cpuSeconds / seconds:0.00} cores busy (the rest: waiting on the disk, or for a core the machine's other work holds)");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(path + suffix);
        }
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
