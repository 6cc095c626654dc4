using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Retraining;
using ModelOps.Portal.Runs;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// Retraining schedules over the real portal (in-process, real SQLite, real Hangfire store, real engine).
/// Dispatch is paused here, so the tests play the Hangfire server's part: they check that the right job
/// is in the store, then run the fire and the gate as that job would, and play the worker over its protocol.
/// </summary>
public sealed class ScheduleTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;
    private readonly TempFolder _work = new();

    public ScheduleTests()
    {
        // A real user of the default team, acting through a personal token: the audit trail names them.
        _http = _portal.ClientForAsync("erin", Identity.TeamRole.Admin).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _portal.Dispose();
        _work.Dispose();
    }

    private async Task<int> UploadAsync(string dataset, int rows, int seed)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(dataset), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(TestData.SeparableCsv(rows, seed))), "file", "points.csv" },
        };
        var uploaded = await _http.PostAsync("/api/v1/datasets/csv", form);
        uploaded.EnsureSuccessStatusCode();
        return (await uploaded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("datasetId").GetInt32();
    }

    private async Task TrainAsync(int runId)
    {
        var worker = await SimulatedWorker.BeginAsync(_portal, runId);
        await worker.TrainAndFinishAsync(Directory.CreateDirectory(Path.Combine(_work.Path, runId.ToString())).FullName);
    }

    private static object Recipe(string name, string dataset, string? cron = null, bool onNewVersion = true, double margin = 0.05, string gate = "promote", bool overlap = false,
        string timeZone = "UTC") => new
    {
        name, dataset, targetModel = "pts", cron, timeZone, onNewDatasetVersion = onNewVersion, allowOverlap = overlap,
        gateMode = gate, gateMetric = "accuracy", gateMargin = margin,
        options = new { template = "mlp", epochs = 8, batchSize = 16, learningRate = 0.01, optimizer = "adam", seed = 3, validationFraction = 0.2, testFraction = 0.2 },
    };

    private async Task<int> CreateAsync(object recipe)
    {
        var created = await _http.PostAsJsonAsync("/api/v1/schedules", recipe);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    private Task<ScheduleFire?> FireAsync(int scheduleId, string trigger = FireTriggers.Manual, string? jobId = null) =>
        _portal.InScopeAsync(sp => sp.GetRequiredService<ScheduleRunner>().FireNowAsync(scheduleId, trigger, null, jobId, CancellationToken.None));

    private Task<bool> DecideAsync(long fireId) =>
        _portal.InScopeAsync(async sp =>
        {
            await sp.GetRequiredService<ScheduleRunner>().DecideAsync(fireId, CancellationToken.None);
            return true;
        });

    private ScheduleFire Fire(long id) => _portal.Db(db => db.ScheduleFires.AsNoTracking().First(f => f.Id == id));

    /// <summary>The fire jobs waiting on the schedules queue, as Hangfire's monitoring API lists them.</summary>
    private List<string> QueuedFireJobs() =>
        _portal.Services.GetRequiredService<JobsHost>().Storage.GetMonitoringApi()
            .EnqueuedJobs(SlotQueues.Schedules, 0, 100)
            .Where(j => j.Value.Job?.Method.Name == nameof(ScheduleRunner.FireAsync))
            .Select(j => j.Key).ToList();

    [Fact]
    public async Task A_bad_recipe_is_refused_whole_and_nothing_is_saved()
    {
        await UploadAsync("pts-data", 100, 7);
        var response = await _http.PostAsJsonAsync("/api/v1/schedules", new
        {
            name = "../nightly", dataset = "no-such-data", targetModel = "Bad Name", cron = "61 * * * *", timeZone = "Mars/Base",
            gateMode = "yolo", gateMargin = -1,
        });
        var problem = await HttpAssert.ProblemAsync(response, 400, "");
        var errors = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains("Schedule name '../nightly' is not allowed"));
        Assert.Contains(errors, e => e.Contains("Dataset 'no-such-data' does not exist"));
        Assert.Contains(errors, e => e.Contains("Target model 'Bad Name' is not allowed"));
        Assert.Contains(errors, e => e.Contains("'61 * * * *' is not a cron expression"));
        Assert.Contains(errors, e => e.Contains("'Mars/Base' is not a time zone"));
        Assert.Contains(errors, e => e.Contains("Gate 'yolo' is not one of promote, stage, register"));
        Assert.Contains(errors, e => e.Contains("gate margin must be a number of at least 0"));

        // Input Cronos itself cannot take ('H' without a seed), a per-second cron, AUC on three classes: 400s, not 500s.
        var hashed = await _http.PostAsJsonAsync("/api/v1/schedules", new { name = "h", dataset = "pts-data", targetModel = "pts", cron = "H 3 * * *" });
        await HttpAssert.ProblemAsync(hashed, 400, "'H 3 * * *' is not a cron expression");
        var everySecond = await _http.PostAsJsonAsync("/api/v1/schedules", new { name = "busy", dataset = "pts-data", targetModel = "pts", cron = "* * * * * *" });
        await HttpAssert.ProblemAsync(everySecond, 400, "fires more than once a minute");
        var noTrigger = await _http.PostAsJsonAsync("/api/v1/schedules", new { name = "idle", dataset = "pts-data", targetModel = "pts" });
        await HttpAssert.ProblemAsync(noTrigger, 400, "Choose when the schedule fires");
        // A recipe that could not launch today is refused now, with the run form's own reason.
        var cnnOnCsv = await _http.PostAsJsonAsync("/api/v1/schedules", new { name = "cnn", dataset = "pts-data", targetModel = "pts", onNewDatasetVersion = true, options = new { template = "cnn" } });
        await HttpAssert.ProblemAsync(cnnOnCsv, 400, "Template 'cnn' does not fit a csv dataset");

        Assert.Empty(await _http.GetFromJsonAsync<JsonElement[]>("/api/v1/schedules") ?? []);
        Assert.Equal(0, _portal.Db(db => db.Schedules.Count()));
        Assert.Equal(0, _portal.Db(db => db.AuditEvents.Count(a => a.Action.StartsWith("schedule."))));
    }

    [Fact]
    public async Task A_cron_schedule_is_a_recurring_job_in_its_time_zone_that_pause_removes_and_resume_restores()
    {
        await UploadAsync("pts-data", 100, 7);
        var id = await CreateAsync(Recipe("nightly", "pts-data", cron: "0 3 * * *", onNewVersion: false));
        var recurring = RecurringJob(id);
        Assert.NotNull(recurring);
        Assert.Equal("0 3 * * *", recurring!.Cron);
        Assert.Equal("UTC", recurring.TimeZoneId);
        Assert.Equal(SlotQueues.Schedules, recurring.Job.Queue);
        Assert.Equal(nameof(ScheduleRunner.FireAsync), recurring.Job.Method.Name);

        var berlin = await _http.PutAsJsonAsync($"/api/v1/schedules/{id}", Recipe("nightly", "pts-data", cron: "30 2 * * 1-5", onNewVersion: false, timeZone: "Europe/Berlin"));
        berlin.EnsureSuccessStatusCode();
        var view = await berlin.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Europe/Berlin", RecurringJob(id)!.TimeZoneId);
        Assert.Equal("30 2 * * 1-5", RecurringJob(id)!.Cron);
        var next = view.GetProperty("nextFires").EnumerateArray().Select(n => n.GetDateTimeOffset()).ToList();
        Assert.Equal(3, next.Count);
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        Assert.All(next, n =>
        {
            var local = TimeZoneInfo.ConvertTime(n, zone);
            Assert.Equal((2, 30), (local.Hour, local.Minute));
            Assert.InRange(local.DayOfWeek, DayOfWeek.Monday, DayOfWeek.Friday);
        });
        Assert.True(next.SequenceEqual(next.Order()) && next[0] > DateTimeOffset.UtcNow);

        (await _http.PostAsync($"/api/v1/schedules/{id}/pause", null)).EnsureSuccessStatusCode();
        Assert.Null(RecurringJob(id));
        var paused = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/schedules/{id}");
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Empty(paused.GetProperty("nextFires").EnumerateArray());
        (await _http.PostAsync($"/api/v1/schedules/{id}/resume", null)).EnsureSuccessStatusCode();
        Assert.Equal("30 2 * * 1-5", RecurringJob(id)!.Cron);

        // Run now queues the same fire job a tick would; deleting the schedule removes its recurring job.
        var queued = await _http.PostAsync($"/api/v1/schedules/{id}/run", null);
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        var jobId = (await queued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString();
        Assert.Contains(jobId, QueuedFireJobs());
        (await _http.DeleteAsync($"/api/v1/schedules/{id}")).EnsureSuccessStatusCode();
        Assert.Null(RecurringJob(id));
        var actions = _portal.Db(db => db.AuditEvents.Where(a => a.Subject == "schedule:nightly").OrderBy(a => a.Id).Select(a => a.Action + " by " + a.Actor).ToList());
        Assert.Equal(["schedule.created by erin", "schedule.updated by erin", "schedule.paused by erin", "schedule.resumed by erin", "schedule.deleted by erin"], actions);
    }

    private Hangfire.Storage.RecurringJobDto? RecurringJob(int scheduleId)
    {
        using var connection = _portal.Services.GetRequiredService<JobsHost>().Storage.GetConnection();
        return Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection, [ScheduleService.RecurringId(scheduleId)])
            .FirstOrDefault(j => j.Removed != true && j.Job is not null);
    }

    [Fact]
    public async Task A_new_dataset_version_retrains_and_the_gate_promotes_only_a_candidate_better_by_the_margin()
    {
        // Production v1: a weak model (one epoch at a tiny learning rate) on v1 of the data.
        var datasetId = await UploadAsync("pts-data", 300, 7);
        var weakRun = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = _portal.Db(db => db.DatasetVersions.Single().Id), template = "mlp", epochs = 1, learningRate = 0.00001, seed = 3, testFraction = 0.2 });
        weakRun.EnsureSuccessStatusCode();
        var weakRunId = (await weakRun.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        await TrainAsync(weakRunId);
        (await _http.PostAsJsonAsync("/api/v1/models/pts/versions", new { runId = weakRunId })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync("/api/v1/models/pts/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();

        var scheduleId = await CreateAsync(Recipe("on-new-data", "pts-data", margin: 0.05));
        Assert.Empty(QueuedFireJobs());

        // v2 of the dataset: the upload itself queues the schedule's fire job.
        await UploadAsync("pts-data", 300, 8);
        var fireJob = Assert.Single(QueuedFireJobs());
        var fire = (await FireAsync(scheduleId, FireTriggers.DatasetVersion, fireJob))!;
        Assert.Equal(FireOutcomes.Pending, fire.Outcome);
        var run = _portal.Db(db => db.Runs.AsNoTracking().Include(r => r.DatasetVersion).First(r => r.Id == fire.RunId));
        Assert.Equal(("schedule", "schedule:on-new-data", 2, RunStatus.Queued), (run.Source, run.CreatedBy, run.DatasetVersion!.Version, run.Status));
        // A second delivery of the same job fires nothing more.
        Assert.Equal(fire.Id, (await FireAsync(scheduleId, FireTriggers.DatasetVersion, fireJob))!.Id);
        Assert.Equal(1, _portal.Db(db => db.ScheduleFires.Count()));

        await TrainAsync(run.Id);
        await DecideAsync(fire.Id);
        var decided = Fire(fire.Id);
        Assert.True(decided.Outcome == FireOutcomes.Promoted, decided.Reason);
        Assert.Equal((2, 1, "accuracy"), (decided.ModelVersion, decided.ProductionVersion, decided.Metric));
        var candidateAccuracy = _portal.Db(db => db.Runs.AsNoTracking().First(r => r.Id == run.Id).TestAccuracy);
        Assert.Equal(candidateAccuracy, decided.CandidateValue);
        Assert.True(decided.CandidateValue > decided.ProductionValue + 0.05, decided.Reason);
        Assert.Contains("on the same test data", decided.Reason);
        // The page shows the stored sentence in the reader's language, figures included.
        var chinese = FireReason.Localized(decided, System.Globalization.CultureInfo.GetCultureInfo("zh-CN"))!;
        Assert.StartsWith("v2 已晋级为生产版本：在同一测试数据上 accuracy 为", chinese);
        Assert.Contains(decided.ProductionValue!.Value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture), chinese);
        Assert.Equal(decided.Reason, FireReason.Localized(decided, System.Globalization.CultureInfo.GetCultureInfo("en")));
        Assert.Equal([(1, ModelStages.Archived), (2, ModelStages.Production)], Stages());
        var gateAudit = _portal.Db(db => db.AuditEvents.AsNoTracking().Single(a => a.Action == "schedule.gate"));
        Assert.Equal(("schedule:on-new-data", "model:pts:v2"), (gateAudit.Actor, gateAudit.Subject));
        Assert.Contains(decided.CandidateValue!.Value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture), gateAudit.Details);
        Assert.Contains(decided.ProductionValue!.Value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture), gateAudit.Details);
        Assert.True(_portal.Db(db => db.AuditEvents.Any(a => a.Action == "model.stage.changed" && a.Actor == "schedule:on-new-data" && a.Details!.Contains("promoted"))));
        // A decide job that died after the promotion, before the fire was updated: delivered again, it
        // finishes the same decision (Production was v1), rather than finding v2 in Production and no one to compare with.
        _portal.Db(db => db.ScheduleFires.Where(f => f.Id == fire.Id)
            .ExecuteUpdate(u => u.SetProperty(f => f.Outcome, FireOutcomes.Pending).SetProperty(f => f.DecidedAt, (DateTime?)null)));
        await DecideAsync(fire.Id);
        var again = Fire(fire.Id);
        Assert.Equal((FireOutcomes.Promoted, (int?)1, decided.ProductionValue, decided.Reason), (again.Outcome, again.ProductionVersion, again.ProductionValue, again.Reason));
        // Deciding again (a re-delivered job, the sweep) changes nothing.
        await DecideAsync(fire.Id);
        Assert.Equal(2, _portal.Db(db => db.ModelVersions.Count()));

        // v3: a candidate as good as Production v2 is not better by 0.05, so v2 stays and v3 is only registered.
        await UploadAsync("pts-data", 300, 9);
        var second = (await FireAsync(scheduleId, FireTriggers.DatasetVersion, Assert.Single(QueuedFireJobs(), j => j != fireJob)))!;
        await TrainAsync(second.RunId!.Value);
        await DecideAsync(second.Id);
        var kept = Fire(second.Id);
        Assert.True(kept.Outcome == FireOutcomes.Kept, kept.Reason);
        Assert.Equal((3, 2), (kept.ModelVersion, kept.ProductionVersion));
        Assert.True(kept.CandidateValue - kept.ProductionValue < 0.05, kept.Reason);
        Assert.Contains("Production v2 kept", kept.Reason);
        Assert.Equal([(1, ModelStages.Archived), (2, ModelStages.Production), (3, ModelStages.None)], Stages());

        // The schedule's view sums its runs' compute and shows the last outcome.
        var view = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/schedules/{scheduleId}");
        Assert.Equal(2, view.GetProperty("runs").GetInt32());
        Assert.Equal(FireOutcomes.Kept, view.GetProperty("lastFire").GetProperty("outcome").GetString());
        var fires = await _http.GetFromJsonAsync<JsonElement[]>($"/api/v1/schedules/{scheduleId}/fires");
        Assert.NotNull(fires);
        Assert.Equal([FireOutcomes.Kept, FireOutcomes.Promoted], fires.Select(f => f.GetProperty("outcome").GetString()));
        Assert.Equal("Finished", fires[0].GetProperty("runStatus").GetString());
        Assert.Equal(datasetId, view.GetProperty("datasetId").GetInt32());
    }

    private List<(int, string)> Stages() =>
        _portal.Db(db => db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModel!.Name == "pts").OrderBy(v => v.Version).Select(v => new { v.Version, v.Stage }).ToList())
            .Select(v => (v.Version, v.Stage)).ToList();

    [Fact]
    public async Task Fires_do_not_overlap_unless_allowed_and_a_recipe_that_no_longer_runs_fails_with_its_reason()
    {
        await UploadAsync("pts-data", 200, 7);
        var serial = await CreateAsync(Recipe("serial", "pts-data"));
        var first = (await FireAsync(serial))!;
        Assert.Equal(FireOutcomes.Pending, first.Outcome);
        var skipped = (await FireAsync(serial))!;
        Assert.Equal(FireOutcomes.Skipped, skipped.Outcome);
        Assert.Null(skipped.RunId);
        Assert.Contains($"Fire {first.Id} is still going (run {first.RunId})", skipped.Reason);

        var parallel = await CreateAsync(Recipe("parallel", "pts-data", overlap: true));
        var a = (await FireAsync(parallel))!;
        var b = (await FireAsync(parallel))!;
        Assert.NotEqual(a.RunId, b.RunId);
        Assert.All(new[] { a, b }, f => Assert.Equal(FireOutcomes.Pending, f.Outcome));

        // The run failing ends its fire as failed, with the run's reason; the schedule may fire again.
        var worker = await SimulatedWorker.BeginAsync(_portal, first.RunId!.Value);
        (await worker.Http.PostAsJsonAsync($"/api/v1/runs/{first.RunId}/finish", new ModelOps.Jobs.Protocol.FinishReport("Failed", "out of memory", null))).EnsureSuccessStatusCode();
        // Its run has ended: a new fire is not held back while that fire's gate is still to run.
        var next = (await FireAsync(serial))!;
        Assert.Equal(FireOutcomes.Pending, next.Outcome);
        Assert.NotNull(next.RunId);
        Assert.Equal(1, await _portal.Services.GetRequiredService<ScheduleDecisions>().SweepAsync(CancellationToken.None));
        await DecideAsync(first.Id);
        var failed = Fire(first.Id);
        Assert.Equal(FireOutcomes.Failed, failed.Outcome);
        Assert.Contains("failed: out of memory", failed.Reason);
        // A raw sentence (the worker's error) stays as it was, inside the translated one.
        Assert.Equal($"运行 {first.RunId} 失败：out of memory", FireReason.Localized(failed, System.Globalization.CultureInfo.GetCultureInfo("zh-CN")));

        // A dataset with no runs can be deleted; its schedule's next fire fails and says why, and so does the schedule.
        await UploadAsync("gone-data", 100, 7);
        var orphan = await CreateAsync(Recipe("orphan", "gone-data"));
        var goneId = _portal.Db(db => db.Datasets.Single(d => d.Name == "gone-data").Id);
        await _portal.InScopeAsync(async sp =>
        {
            await ActivatorUtilities.CreateInstance<ModelOps.Portal.Datasets.DatasetRemoval>(sp).DeleteAsync(goneId, CancellationToken.None);
            return true;
        });
        var gone = (await FireAsync(orphan, FireTriggers.Cron))!;
        Assert.Equal(FireOutcomes.Failed, gone.Outcome);
        Assert.Equal("The recipe cannot run: Dataset 'gone-data' no longer exists.", gone.Reason);
        var view = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/schedules/{orphan}");
        Assert.Equal("Dataset 'gone-data' no longer exists.", view.GetProperty("problem").GetString());
        Assert.True(_portal.Db(db => db.AuditEvents.Any(e => e.Action == "schedule.fire.failed" && e.Subject == "schedule:orphan")));
    }

    [Fact]
    public async Task A_paused_schedule_ignores_its_triggers_but_runs_when_asked()
    {
        await UploadAsync("pts-data", 100, 7);
        var id = await CreateAsync(Recipe("sleepy", "pts-data"));
        (await _http.PostAsync($"/api/v1/schedules/{id}/pause", null)).EnsureSuccessStatusCode();
        await UploadAsync("pts-data", 100, 8);
        Assert.Empty(QueuedFireJobs());
        Assert.Null(await FireAsync(id, FireTriggers.Cron));
        Assert.Equal(FireOutcomes.Pending, (await FireAsync(id, FireTriggers.Manual))!.Outcome);
    }

    [Fact]
    public async Task A_finished_run_whose_model_cannot_be_registered_ends_its_fire_so_later_fires_are_not_held_back()
    {
        await UploadAsync("pts-data", 200, 7);
        var id = await CreateAsync(Recipe("brittle", "pts-data"));
        var fire = (await FireAsync(id))!;
        await TrainAsync(fire.RunId!.Value);
        var paths = _portal.Services.GetRequiredService<ModelOps.Portal.Infrastructure.DataPaths>();
        File.Delete(WorkerApi.ArtifactPath(paths, fire.RunId.Value, ModelOps.Jobs.Protocol.WorkerArtifacts.Model));

        await DecideAsync(fire.Id);

        var ended = Fire(fire.Id);
        Assert.Equal(FireOutcomes.Failed, ended.Outcome);
        Assert.Contains("could not be registered or promoted: The model file of run", ended.Reason);
        Assert.Equal(0, _portal.Db(db => db.ModelVersions.Count()));
        Assert.Equal(FireOutcomes.Pending, (await FireAsync(id))!.Outcome);
    }

    [Theory]
    [InlineData("promote", "accuracy", 0.80, 0.70, 0.05, "promoted")]
    [InlineData("promote", "accuracy", 0.74, 0.70, 0.05, "kept")]
    [InlineData("promote", "accuracy", 0.70, 0.70, 0.0, "kept")]
    [InlineData("promote", "mse", 0.20, 0.30, 0.05, "promoted")]
    [InlineData("promote", "mse", 0.30, 0.20, 0.0, "kept")]
    [InlineData("stage", "accuracy", 0.99, 0.10, 0.0, "staged")]
    [InlineData("stage", "accuracy", 0.10, 0.99, 0.0, "staged")]
    [InlineData("register", "accuracy", 0.99, 0.10, 0.0, "registered")]
    public void The_gate_compares_in_the_metrics_direction_by_the_margin(string mode, string metric, double candidate, double production, double margin, string expected)
    {
        var schedule = new Schedule { Name = "s", DatasetName = "d", OptionsJson = "{}", TargetModel = "m", CreatedBy = "x", UpdatedBy = "x", GateMode = mode, GateMetric = metric, GateMargin = margin };
        var (outcome, reason) = ScheduleRunner.Gate(schedule, 4, candidate, 3, production, null);
        Assert.Equal(expected, outcome);
        Assert.Contains("Production v3", reason.English);
        Assert.Contains("生产版本 v3", reason.Localized(System.Globalization.CultureInfo.GetCultureInfo("zh-CN")));
    }

    [Fact]
    public void The_gate_promotes_a_first_version_and_never_over_a_production_it_cannot_score()
    {
        var schedule = new Schedule { Name = "s", DatasetName = "d", OptionsJson = "{}", TargetModel = "m", CreatedBy = "x", UpdatedBy = "x", GateMetric = "accuracy" };
        Assert.Equal(FireOutcomes.Promoted, ScheduleRunner.Gate(schedule, 1, 0.6, null, null, null).Outcome);
        var (outcome, reason) = ScheduleRunner.Gate(schedule, 2, 0.99, 1, null, "the model knows the classes a, b, but this data has a, b, c");
        Assert.Equal(FireOutcomes.Kept, outcome);
        Assert.Contains("cannot be scored on this test data (the model knows the classes", reason.English);
        Assert.Equal(FireOutcomes.Kept, ScheduleRunner.Gate(schedule, 2, null, 1, 0.5, null).Outcome);
    }

    [Fact]
    public async Task A_fine_tuning_recipe_fine_tunes_the_version_in_production_at_each_fire()
    {
        await UploadAsync("pts-data", 200, 7);
        var first = await SimulatedWorker.QueueCsvRunAsync(_http, "pts-data");
        await TrainAsync(first);
        var second = await SimulatedWorker.QueueCsvRunAsync(_http, "pts-data");
        await TrainAsync(second);
        (await _http.PostAsJsonAsync("/api/v1/models/base/versions", new { runId = first })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync("/api/v1/models/base/versions", new { runId = second })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync("/api/v1/models/base/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        var id = await CreateAsync(new
        {
            name = "tune", dataset = "pts-data", fineTuneModel = "base", targetModel = "pts", onNewDatasetVersion = true, allowOverlap = true,
            options = new { epochs = 2 },
        });

        int? ParentOf(ScheduleFire fire) => _portal.Db(db => db.Runs.AsNoTracking().Where(r => r.Id == fire.RunId)
            .Select(r => r.ParentModelVersion!.Version).First());
        Assert.Equal(1, ParentOf((await FireAsync(id))!));
        (await _http.PostAsJsonAsync("/api/v1/models/base/versions/2/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
        Assert.Equal(2, ParentOf((await FireAsync(id))!));
        // The fine-tune takes its parent's template, and the fine-tuning learning rate, as the run form does.
        var run = _portal.Db(db => db.Runs.AsNoTracking().OrderByDescending(r => r.Id).First());
        Assert.Equal(("mlp", ModelOps.Portal.Runs.FineTuning.DefaultLearningRate), (run.Template, run.LearningRate));
    }

    [Fact]
    public async Task A_new_version_whose_schema_the_fine_tuned_model_cannot_read_fails_the_fire_with_the_reason()
    {
        await UploadAsync("pts-data", 200, 7);
        var first = await SimulatedWorker.QueueCsvRunAsync(_http, "pts-data");
        await TrainAsync(first);
        (await _http.PostAsJsonAsync("/api/v1/models/base/versions", new { runId = first })).EnsureSuccessStatusCode();
        var id = await CreateAsync(new { name = "tune", dataset = "pts-data", fineTuneModel = "base", targetModel = "pts", onNewDatasetVersion = true, options = new { epochs = 2 } });

        // v2 has lost the column 'y' the model reads.
        var csv = string.Join("\n", TestData.SeparableCsv(200, 8).Split('\n').Select(line => string.Join(',', line.Split(',').Where((_, i) => i != 1))));
        var form = new MultipartFormDataContent
        {
            { new StringContent("pts-data"), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", "points.csv" },
        };
        (await _http.PostAsync("/api/v1/datasets/csv", form)).EnsureSuccessStatusCode();
        var fire = (await FireAsync(id, FireTriggers.DatasetVersion, Assert.Single(QueuedFireJobs())))!;

        Assert.Equal(FireOutcomes.Failed, fire.Outcome);
        Assert.Null(fire.RunId);
        Assert.StartsWith("The recipe cannot run: ", fire.Reason);
        Assert.Contains("'y'", fire.Reason);
        // Nested in the fire's own sentence, the launcher's problem is translated too.
        Assert.StartsWith("配方无法运行：", FireReason.Localized(fire, System.Globalization.CultureInfo.GetCultureInfo("zh-CN")));
        var view = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/schedules/{id}");
        Assert.Equal(fire.Reason, view.GetProperty("problem").GetString());
    }
}
