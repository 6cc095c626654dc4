using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

/// <summary>
/// ModelOps:JobStoreConnectionString: Hangfire keeps its jobs in PostgreSQL (Hangfire.PostgreSql, sliding
/// invisibility) instead of the SQLite file. A real PostgreSQL started by the test, the real portal and worker.
/// </summary>
public sealed class PostgreSqlJobStoreTests
{
    [Fact]
    public async Task Runs_and_schedules_go_through_a_postgresql_job_store()
    {
        await using var postgres = await PostgresServer.StartAsync();
        using var data = new TempFolder();
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false",
            $"--ModelOps:JobStoreConnectionString={postgres.ConnectionString}");

        var runId = await portal.StartMlpRunAsync(epochs: 2, rows: 300);
        var done = await portal.WaitForRunAsync(runId, r => r.GetProperty("status").GetString() is "Finished" or "Failed", TimeSpan.FromMinutes(2));
        Assert.True(done.GetProperty("status").GetString() == "Finished", done.ToString());

        using var created = await portal.Http.PostAsJsonAsync("/api/v1/schedules", new
        {
            name = "nightly", dataset = "points", targetModel = "pts", cron = "0 3 * * *", timeZone = "UTC", gateMode = "register",
            options = new { template = "mlp", epochs = 1 },
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());

        await using var db = new NpgsqlConnection(postgres.ConnectionString);
        await db.OpenAsync();
        async Task<long> CountAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, db);
            return (long)(await command.ExecuteScalarAsync())!;
        }
        Assert.Equal(1, await CountAsync(
            "select count(*) from hangfire.job where statename = 'Succeeded' and invocationdata::text like '%TrainingJob%'"));
        Assert.Equal(1, await CountAsync("select count(*) from hangfire.hash where key = 'recurring-job:schedule-1' and field = 'Cron'"));
        Assert.False(File.Exists(Path.Combine(data.Path, "jobs.db")), "The SQLite job store was created although PostgreSQL is configured.");
    }
}
