using System.Net.Http.Json;
using System.Text.Json;
using Hangfire.Storage.SQLite;
using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

/// <summary>
/// A cron schedule across a portal outage, on the real portal executable and its Hangfire store: the
/// ticks missed while the portal was down fire once after the restart, not once per tick.
/// </summary>
public sealed class ScheduleRestartTests
{
    // Hourly at the minute half an hour from now: no real tick falls inside the test, so every fire it
    // sees comes from the missed ones (a */5 cron once met a real tick at the five-minute mark and fired twice).
    private static readonly int Minute = (DateTime.UtcNow.Minute + 30) % 60;
    private static readonly string Cron = $"{Minute} * * * *";

    [Fact]
    public async Task Ticks_missed_while_the_portal_was_down_fire_once_after_restart()
    {
        using var data = new TempFolder();
        int scheduleId;
        await using (var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false"))
        {
            await portal.UploadCsvAsync("points", TestData.SeparableCsv(200));
            using var created = await portal.Http.PostAsJsonAsync("/api/v1/schedules", new
            {
                name = "hourly", dataset = "points", targetModel = "pts", cron = Cron, timeZone = "UTC", gateMode = "register",
                options = new { template = "mlp", epochs = 1, batchSize = 32, seed = 3 },
            });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            scheduleId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
            Assert.Empty(await FiresAsync(portal, scheduleId));
        }

        // The portal is down (killed). Hangfire's store then says what it would say after three hours down:
        // the job's next tick was due three hours ago, so three ticks of this cron were missed. (Hangfire
        // counts the missed ticks from LastExecution, or CreatedAt before the first run.)
        var due = DateTime.UtcNow.AddHours(-3);
        due = new DateTime(due.Year, due.Month, due.Day, due.Hour, Minute, 0, DateTimeKind.Utc);
        var storage = new SQLiteStorage(Path.Combine(data.Path, "jobs.db"), new SQLiteStorageOptions());
        using (var connection = storage.GetConnection())
        using (var write = connection.CreateWriteTransaction())
        {
            var id = $"schedule-{scheduleId}";
            write.SetRangeInHash($"recurring-job:{id}",
            [
                new("CreatedAt", due.AddDays(-1).ToString("o")),
                new("LastExecution", due.AddHours(-1).ToString("o")),
                new("NextExecution", due.ToString("o")),
            ]);
            write.AddToSet("recurring-jobs", id, new DateTimeOffset(due).ToUnixTimeSeconds());
            write.Commit();
        }

        await using (var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false"))
        {
            var until = DateTime.UtcNow.AddSeconds(30);
            JsonElement[] fires = [];
            // The fire is recorded first and gets its run a moment later: wait for both.
            while (DateTime.UtcNow < until && (fires.Length == 0 || fires[0].GetProperty("runId").ValueKind != JsonValueKind.Number))
            {
                await Task.Delay(250);
                fires = await FiresAsync(portal, scheduleId);
            }
            var fire = Assert.Single(fires);
            Assert.Equal("cron", fire.GetProperty("trigger").GetString());
            Assert.Equal($"{Cron} UTC", fire.GetProperty("triggerDetail").GetString());
            Assert.True(fire.GetProperty("runId").ValueKind == JsonValueKind.Number, fire.ToString());

            // Long enough for a second fire to have come from the same recurring job if misfires were replayed.
            await Task.Delay(TimeSpan.FromSeconds(5));
            Assert.Single(await FiresAsync(portal, scheduleId));
            var schedule = await portal.Http.GetFromJsonAsync<JsonElement>($"/api/v1/schedules/{scheduleId}");
            var next = schedule.GetProperty("nextFires")[0].GetDateTimeOffset();
            Assert.InRange(next, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1));
        }
    }

    private static async Task<JsonElement[]> FiresAsync(PortalProcess portal, int scheduleId) =>
        await portal.Http.GetFromJsonAsync<JsonElement[]>($"/api/v1/schedules/{scheduleId}/fires") ?? [];
}
