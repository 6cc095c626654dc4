using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// The audit trail over HTTP (GET /api/v1/audit and /api/v1/audit/export.csv) against a real SQLite file: events
/// written by real actions carry their before and after; filters by person, resource, action and dates; paging
/// totals; the CSV export parsed back, formulas neutralised; bad queries are 400s. Rows that need a particular actor
/// are inserted with the DbContext, since who a request acts as is about to come from sign-in.
/// </summary>
public sealed class AuditTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;
    private readonly HttpClient _http;

    public AuditTests(PortalFactory portal)
    {
        _portal = portal;
        _http = portal.CreateClient();
    }

    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    private async Task<JsonElement> AuditAsync(string query)
    {
        var response = await _http.GetAsync("/api/v1/audit?" + query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<JsonElement> Items(JsonElement page) => page.GetProperty("items").EnumerateArray().ToList();

    private void Insert(params AuditEvent[] events) => _portal.Db(db =>
    {
        db.AuditEvents.AddRange(events);
        return db.SaveChanges();
    });

    private static AuditEvent Event(string actor, string action, string subject, DateTime at, string? details = null, int? team = null) =>
        new() { At = at, Actor = actor, Action = action, Subject = subject, Details = details, TeamId = team };

    [Fact]
    public async Task Updating_an_experiment_records_what_it_was_and_what_it_became()
    {
        var name = "audit-exp-" + Tag();
        var created = await _http.PostAsJsonAsync("/api/v1/experiments", new { name, description = "first", tags = new { team = "vision" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var patch = await _http.PatchAsJsonAsync($"/api/v1/experiments/{id}",
            new { name = name + "-renamed", description = "second", tags = new Dictionary<string, string?> { ["team"] = null, ["stage"] = "beta" } });
        Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());

        var page = await AuditAsync($"resource=experiment:{name}&action=experiment.");
        Assert.Equal(2, page.GetProperty("total").GetInt32());
        var items = Items(page);
        // Newest first.
        Assert.Equal(["experiment.updated", "experiment.created"], items.Select(i => i.GetProperty("action").GetString()));
        var updated = items[0];
        Assert.Equal("experiment", updated.GetProperty("resourceType").GetString());
        Assert.Equal($"experiment:{name}-renamed", updated.GetProperty("subject").GetString());
        var before = JsonDocument.Parse(updated.GetProperty("before").GetString()!).RootElement;
        var after = JsonDocument.Parse(updated.GetProperty("after").GetString()!).RootElement;
        Assert.Equal(name, before.GetProperty("name").GetString());
        Assert.Equal("first", before.GetProperty("description").GetString());
        Assert.Equal("vision", before.GetProperty("tags").GetProperty("team").GetString());
        Assert.False(before.GetProperty("tags").TryGetProperty("stage", out _));
        Assert.Equal(name + "-renamed", after.GetProperty("name").GetString());
        Assert.Equal("second", after.GetProperty("description").GetString());
        Assert.Equal("beta", after.GetProperty("tags").GetProperty("stage").GetString());
        Assert.False(after.GetProperty("tags").TryGetProperty("team", out _));
        Assert.Equal(JsonValueKind.Null, items[1].GetProperty("before").ValueKind);
    }

    [Fact]
    public async Task Revoking_a_token_records_active_then_revoked()
    {
        var created = await _http.PostAsJsonAsync("/api/v1/tokens", new { name = "audit script " + Tag() });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = await created.Content.ReadFromJsonAsync<JsonElement>();
        var prefix = token.GetProperty("prefix").GetString()!;
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/v1/tokens/{token.GetProperty("id").GetInt32()}")).StatusCode);

        var items = Items(await AuditAsync($"resource=token:{prefix}"));
        Assert.Equal(["token.revoked", "token.created"], items.Select(i => i.GetProperty("action").GetString()));
        Assert.Equal("active", items[0].GetProperty("before").GetString());
        Assert.Equal("revoked", items[0].GetProperty("after").GetString());
        Assert.All(items, i => Assert.Equal("token", i.GetProperty("resourceType").GetString()));
        // The action filter is a prefix: "token.rev" finds the revocation only.
        Assert.Single(Items(await AuditAsync($"resource=token:{prefix}&action=token.rev")));
    }

    [Fact]
    public async Task Stage_changes_record_the_stage_before_and_after()
    {
        var name = "audit-model-" + Tag();
        var runId = await SimulatedWorker.QueueCsvRunAsync(_http, name);
        var worker = await SimulatedWorker.BeginAsync(_portal, runId);
        using var work = new TempFolder();
        await worker.TrainAndFinishAsync(Directory.CreateDirectory(Path.Combine(work.Path, runId.ToString())).FullName);
        (await _http.PostAsJsonAsync($"/api/v1/models/{name}/versions", new { runId })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/stage", new { stage = "Staging" })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();

        var changes = Items(await AuditAsync($"resource=model:{name}&action=model.stage"));
        Assert.Equal([("Staging", "Production"), ("None", "Staging")],
            changes.Select(c => (c.GetProperty("before").GetString(), c.GetProperty("after").GetString())));
        // "model." finds the registration too; every row is a model resource.
        var all = Items(await AuditAsync($"resource=model:{name}&action=model."));
        Assert.Equal(3, all.Count);
        Assert.All(all, i => Assert.Equal("model", i.GetProperty("resourceType").GetString()));
    }

    [Fact]
    public async Task Deleting_a_dataset_records_its_name_and_versions_as_before()
    {
        var name = "audit-data-" + Tag();
        int datasetId = 0;
        for (var i = 0; i < 2; i++)
        {
            var form = new MultipartFormDataContent
            {
                { new StringContent(name), "name" },
                { new ByteArrayContent(Encoding.UTF8.GetBytes($"x,y,label\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n{i},9,a\n")), "file", "d.csv" },
            };
            var uploaded = await _http.PostAsync("/api/v1/datasets/csv", form);
            Assert.True(uploaded.IsSuccessStatusCode, await uploaded.Content.ReadAsStringAsync());
            datasetId = (await uploaded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("datasetId").GetInt32();
        }
        await _portal.InScopeAsync(async sp =>
        {
            await ActivatorUtilities.CreateInstance<Datasets.DatasetRemoval>(sp).DeleteAsync(datasetId, CancellationToken.None);
            return true;
        });

        var deleted = Assert.Single(Items(await AuditAsync($"resource=dataset:{name}&action=dataset.deleted")));
        var before = JsonDocument.Parse(deleted.GetProperty("before").GetString()!).RootElement;
        Assert.Equal(name, before.GetProperty("name").GetString());
        Assert.Equal([1, 2], before.GetProperty("versions").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(JsonValueKind.Null, deleted.GetProperty("after").ValueKind);
        Assert.Equal(3, (await AuditAsync($"resource=dataset:{name}")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Person_resource_and_date_filters_narrow_the_trail_and_paging_keeps_the_total()
    {
        var tag = Tag();
        Insert(
            Event($"Dana Scully {tag}", "model.version.registered", $"model:churn-{tag}:v1", new DateTime(2026, 3, 1, 10, 0, 0, DateTimeKind.Utc)),
            Event($"dana.scully.{tag}", "model.stage.changed", $"model:churn-{tag}:v1", new DateTime(2026, 3, 2, 23, 59, 59, DateTimeKind.Utc)),
            Event($"fox {tag}", "model.version.registered", $"model:churn-{tag}:v2", new DateTime(2026, 3, 3, 0, 0, 1, DateTimeKind.Utc)),
            Event($"fox {tag}", "schedule.updated", $"schedule:churn-{tag}", new DateTime(2026, 3, 4, 8, 0, 0, DateTimeKind.Utc)),
            Event($"fox {tag}", "dataset.deleted", $"dataset:other-{tag}", new DateTime(2026, 3, 5, 8, 0, 0, DateTimeKind.Utc)));

        // Person: part of the actor, any case.
        var dana = await AuditAsync($"person=DANA%20SCULLY%20{tag}");
        Assert.Equal(1, dana.GetProperty("total").GetInt32());
        Assert.Equal(2, (await AuditAsync($"person=SCULLY&resource={tag}")).GetProperty("total").GetInt32());
        // Resource: "model:churn-x" finds every version of that model, not the schedule of the same name.
        var model = await AuditAsync($"resource=model:churn-{tag}");
        Assert.Equal(3, model.GetProperty("total").GetInt32());
        Assert.Equal(4, (await AuditAsync($"resource=churn-{tag}")).GetProperty("total").GetInt32());
        // Dates are inclusive and a "to" date runs through the end of that day.
        var march = Items(await AuditAsync($"resource={tag}&from=2026-03-01&to=2026-03-02"));
        Assert.Equal([$"dana.scully.{tag}", $"Dana Scully {tag}"], march.Select(i => i.GetProperty("actor").GetString()));
        Assert.Equal(3, (await AuditAsync($"resource={tag}&from=2026-03-03&to=2026-03-05")).GetProperty("total").GetInt32());
        Assert.Equal(2, (await AuditAsync($"resource={tag}&from=2026-03-01T10:00:00Z&to=2026-03-02T23:59:59Z")).GetProperty("total").GetInt32());
        Assert.Equal(1, (await AuditAsync($"resource={tag}&from=2026-03-01T10:00:01Z&to=2026-03-02T23:59:59Z")).GetProperty("total").GetInt32());
        Assert.Equal(0, (await AuditAsync($"resource={tag}&person=nobody")).GetProperty("total").GetInt32());

        // Paging: newest first, each page knows the count of all matches.
        var first = await AuditAsync($"resource={tag}&take=2");
        var second = await AuditAsync($"resource={tag}&take=2&skip=2");
        var third = await AuditAsync($"resource={tag}&take=2&skip=4");
        Assert.All(new[] { first, second, third }, p => Assert.Equal(5, p.GetProperty("total").GetInt32()));
        var actions = new[] { first, second, third }.SelectMany(Items).Select(i => i.GetProperty("action").GetString()).ToList();
        Assert.Equal(["dataset.deleted", "schedule.updated", "model.version.registered", "model.stage.changed", "model.version.registered"], actions);
        Assert.Equal([2, 2, 1], new[] { first, second, third }.Select(p => Items(p).Count));
        // Ordered by another column, ascending.
        var byActor = Items(await AuditAsync($"resource={tag}&order=actor&desc=false")).Select(i => i.GetProperty("actor").GetString()).ToList();
        Assert.Equal(byActor.Order(StringComparer.Ordinal).ToList(), byActor);
    }

    [Fact]
    public async Task The_export_is_csv_of_every_match_with_formulas_neutralised()
    {
        var tag = Tag();
        var at = new DateTime(2026, 4, 1, 9, 30, 15, DateTimeKind.Utc);
        Insert(
            Event("+cmd", "experiment.updated", $"experiment:csv-{tag}", at, details: "=HYPERLINK(\"http://evil.example\",\"click\")"),
            Event("王芳", "dataset.deleted", $"dataset:csv-{tag}", at.AddMinutes(1), details: "two lines,\nand a comma"),
            Event("ok", "schedule.paused", $"schedule:csv-{tag}", at.AddMinutes(2), details: "-1 day"));

        var response = await _http.GetAsync($"/api/v1/audit/export.csv?resource=csv-{tag}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var disposition = response.Content.Headers.ContentDisposition;
        Assert.Equal("attachment", disposition?.DispositionType);
        Assert.Equal($"audit-{DateTime.UtcNow:yyyyMMdd}.csv", disposition?.FileName?.Trim('"'));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var text = new UTF8Encoding(false).GetString(bytes).TrimStart('\uFEFF');

        var rows = Csv.Parse(text);
        Assert.Equal(["At", "Actor", "Action", "Resource", "Before", "After", "Details"], rows[0]);
        Assert.Equal(4, rows.Count);
        // Newest first, as on the page.
        Assert.Equal(["ok", "王芳", "'+cmd"], rows.Skip(1).Select(r => r[1]));
        Assert.Equal("'=HYPERLINK(\"http://evil.example\",\"click\")", rows[3][6]);
        Assert.Equal("2026-04-01T09:30:15.000Z", rows[3][0]);
        Assert.Equal($"experiment:csv-{tag}", rows[3][3]);
        Assert.Equal("two lines,\nand a comma", rows[2][6]);
        Assert.Equal("'-1 day", rows[1][6]);

        // The same filters as the list: a person filter leaves one row.
        var one = Csv.Parse((await _http.GetStringAsync($"/api/v1/audit/export.csv?resource=csv-{tag}&person=%2Bcmd")).TrimStart('\uFEFF'));
        Assert.Equal(2, one.Count);
    }

    [Fact]
    public async Task Bad_queries_are_400_problem_details()
    {
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/audit?from=2026-03-05&to=2026-03-01"), 400, "starts after it ends");
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/audit/export.csv?from=2026-03-05&to=2026-03-01"), 400, "starts after it ends");
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/audit?from=yesterday"), 400, "ISO 8601");
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/audit?take=0"), 400, "take must be between 1 and 1000");
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/audit?take=5000"), 400, "take must be between 1 and 1000");
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/audit?skip=-1"), 400, "skip must be 0 or more");
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/audit?order=colour"), 400, "order must be one of");
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/audit?person=" + new string('x', 201)), 400, "longer than 200");
        // In the caller's language.
        var chinese = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit?from=2026-03-05&to=2026-03-01");
        chinese.Headers.AcceptLanguage.ParseAdd("zh-CN");
        await HttpAssert.ProblemAsync(await _http.SendAsync(chinese), 400, "日期范围的开始晚于结束");
    }

    [Fact]
    public async Task A_team_restriction_shows_only_that_team_s_events()
    {
        var tag = Tag();
        var at = new DateTime(2026, 5, 1, 0, 0, 0, DateTimeKind.Utc);
        Insert(Event("a", "run.created", $"run:team-{tag}-1", at, team: 1), Event("b", "run.created", $"run:team-{tag}-2", at, team: 2),
            Event("c", "run.created", $"run:team-{tag}-x", at));
        async Task<int> CountAsync(IReadOnlyCollection<int>? teams) => await _portal.InScopeAsync(async sp =>
            (await sp.GetRequiredService<AuditQuery>().PageAsync(new AuditFilter(Resource: $"team-{tag}", Teams: teams), 0, 10)).Total);
        Assert.Equal(3, await CountAsync(null));
        Assert.Equal(1, await CountAsync([1]));
        Assert.Equal(2, await CountAsync([1, 2]));
        Assert.Equal(0, await CountAsync([]));
        var streamed = await _portal.InScopeAsync(async sp =>
            await sp.GetRequiredService<AuditQuery>().StreamAsync(new AuditFilter(Resource: $"team-{tag}", Teams: [2])).ToListAsync());
        Assert.Equal(["b"], streamed.Select(r => r.Actor));
    }

    [Fact]
    public void A_new_event_takes_its_resource_type_from_its_subject()
    {
        Assert.Equal("model", new AuditEvent { Actor = "a", Action = "x", Subject = "model:churn:v3" }.ResourceType);
        Assert.Equal("dataset-version", AuditEvent.TypeOf("dataset-version:5"));
        Assert.Equal("legacy", AuditEvent.TypeOf("legacy"));
        Assert.Null(AuditEvent.TypeOf(""));
        Assert.Null(AuditEvent.TypeOf(":x"));
        var tag = Tag();
        Insert(Event("a", "token.created", $"token:mop_{tag}", DateTime.UtcNow));
        Assert.Equal("token", _portal.Db(db => db.AuditEvents.Single(a => a.Subject == $"token:mop_{tag}").ResourceType));
    }

    [Fact]
    public void The_migration_backfills_the_resource_type_of_existing_events()
    {
        using var folder = new TempFolder();
        var options = new DbContextOptionsBuilder<PortalDb>().UseSqlite($"Data Source={Path.Combine(folder.Path, "old.db")};Pooling=False").Options;
        using (var db = new PortalDb(options))
        {
            db.GetService<IMigrator>().Migrate("20261201000007_Schedules");
            db.Database.ExecuteSqlRaw("""
                INSERT INTO audit_events (At, Actor, Action, Subject, Details) VALUES
                    ('2026-11-01 10:00:00', 'u', 'model.stage.changed', 'model:churn:v3', 'Staging -> Production'),
                    ('2026-11-01 10:01:00', 'u', 'run.created', 'dataset-version:5', NULL),
                    ('2026-11-01 10:02:00', 'u', 'odd', 'nocolon', NULL);
                """);
        }
        using (var db = new PortalDb(options))
        {
            db.Database.Migrate();
            var rows = db.AuditEvents.OrderBy(a => a.Id).ToList();
            Assert.Equal(["model", "dataset-version", "nocolon"], rows.Select(r => r.ResourceType));
            Assert.All(rows, r => Assert.Null(r.TeamId));
            Assert.All(rows, r => Assert.Null(r.Before));
            Assert.Equal(["IX_audit_events_Actor", "IX_audit_events_At", "IX_audit_events_ResourceType", "IX_audit_events_TeamId_At"],
                db.Database.SqlQuery<string>($"SELECT name AS Value FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' ORDER BY name").ToList());
        }
    }
}
