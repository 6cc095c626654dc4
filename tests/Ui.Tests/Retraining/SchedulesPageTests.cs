using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AngleSharp.Dom;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Engine.Training;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Retraining;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Shell;
using ModelOps.TestSupport;
using MudBlazor;
using Plotly.Blazor.Traces;
using SchedulesPage = ModelOps.Portal.Retraining.Schedules;

namespace ModelOps.Ui.Tests.Retraining;

/// <summary>
/// The Schedules page over the real ScheduleService and SQLite: the form creates and refuses as the
/// service says, the row actions change the rows and the database, a schedule whose dataset went shows
/// why in red, the history shows the gate's figures, and the page follows a pending fire to its outcome.
/// </summary>
public sealed partial class SchedulesPageTests : PortalUiTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public SchedulesPageTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    private IRenderedComponent<MudDialogProvider> RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<MudDialogProvider>();
    }

    private Task<DatasetVersion> CsvDatasetAsync(string name = "points", int rows = 300) => InScopeAsync(services =>
        services.GetRequiredService<DatasetIngest>().IngestCsvAsync(name, "label", name + ".csv",
            new MemoryStream(Encoding.UTF8.GetBytes(TestData.SeparableCsv(rows))), CancellationToken.None));

    private Task<Schedule> CreateAsync(ScheduleRequest request) =>
        InScopeAsync(services => services.GetRequiredService<ScheduleService>().CreateAsync(request, CancellationToken.None));

    private static ScheduleRequest Nightly(string name = "nightly", string dataset = "points") => new()
    {
        Name = name, Dataset = dataset, TargetModel = "points-model", Cron = "0 3 * * *", TimeZone = "UTC",
        Options = new TrainingOptions() with { Epochs = 2, BatchSize = 32 },
        GateMode = GateModes.Promote, GateMetric = "accuracy", GateMargin = 0.01,
    };

    private Schedule Stored(int id) => Db(db => db.Schedules.AsNoTracking().Single(s => s.Id == id));

    private long AddFire(ScheduleFire fire) => Db(db =>
    {
        db.ScheduleFires.Add(fire);
        db.SaveChanges();
        return fire.Id;
    });

    private static IElement InputOf<T>(IRenderedComponent<T> cut, string testId) where T : IComponent
    {
        var element = cut.Find($"[data-testid={testId}]");
        return element.TagName == "INPUT" ? element : element.QuerySelector("input")!;
    }

    private static IRenderedComponent<SchedulesPage> WaitForForm(IRenderedComponent<SchedulesPage> page)
    {
        page.Find("[data-testid=schedule-new]").Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=schedule-name]")), Wait);
        return page;
    }

    private static Task ChooseAsync<T>(IRenderedComponent<SchedulesPage> page, string label, T value)
    {
        var select = page.FindComponents<MudSelect<T>>().Single(s => s.Instance.Label == label);
        return page.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(value));
    }

    private static IEnumerable<string> Problems(IRenderedComponent<SchedulesPage> page) =>
        page.FindAll("[data-testid=schedule-form-problem]").Select(li => li.TextContent.Trim());

    [Fact]
    public async Task Creating_a_schedule_through_the_form_saves_it_and_shows_its_row()
    {
        await CsvDatasetAsync();
        RenderProviders();
        var page = WaitForForm(Render<SchedulesPage>());
        // The first dataset is chosen and the target model named after it.
        Assert.Equal("points-model", InputOf(page, "schedule-target-model").GetAttribute("value"));

        InputOf(page, "schedule-name").Change("weekday retrain");
        InputOf(page, "schedule-cron").Input("30 2 * * 1-5");
        InputOf(page, "schedule-time-zone").Input("Europe/Berlin");
        // The preview follows the expression as it is typed: three fires, in the schedule's zone.
        page.WaitForAssertion(() => Assert.Equal("3", page.Find("[data-testid=schedule-cron-preview]").GetAttribute("data-count")));
        Assert.All(page.FindAll("[data-testid=schedule-cron-next]"), n => Assert.Contains("Europe/Berlin", n.TextContent));
        InputOf(page, "schedule-epochs").Change("3");
        page.Find("[data-testid=schedule-gate-stage]").Click();
        await ChooseAsync(page, "Gate metric", "f1_macro");
        InputOf(page, "schedule-gate-margin").Change("0.02");
        page.Find("[data-testid=schedule-save]").Click();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-name='weekday retrain']")), Wait);
        var saved = Db(db => db.Schedules.AsNoTracking().Single());
        Assert.Equal("weekday retrain", saved.Name);
        Assert.Equal("30 2 * * 1-5", saved.Cron);
        Assert.Equal("Europe/Berlin", saved.TimeZone);
        Assert.Equal(GateModes.Stage, saved.GateMode);
        Assert.Equal("f1_macro", saved.GateMetric);
        Assert.Equal(0.02, saved.GateMargin, 6);
        Assert.Equal("points-model", saved.TargetModel);
        Assert.Null(saved.DatasetVersion);
        Assert.Equal(3, ScheduleService.OptionsOf(saved).Epochs);
        Assert.False(saved.Paused);
        // The form closed, the row shows the recipe, its triggers and three next fires in Berlin time.
        Assert.Empty(page.FindAll("[data-testid=schedule-form]"));
        Assert.Contains("points (latest version)", page.Find($"[data-testid=schedule-recipe-{saved.Id}]").TextContent);
        Assert.Contains("template mlp, 3 epochs", page.Find($"[data-testid=schedule-recipe-{saved.Id}]").TextContent);
        Assert.Contains("30 2 * * 1-5", page.Find($"[data-testid=schedule-triggers-{saved.Id}]").TextContent);
        var next = page.Find($"[data-testid=schedule-next-{saved.Id}]");
        Assert.Equal("3", next.GetAttribute("data-count"));
        Assert.Contains("Europe/Berlin", next.TextContent);
        Assert.Contains("in ", next.TextContent);
        Assert.Equal("stage", page.Find($"[data-testid=schedule-gate-{saved.Id}]").GetAttribute("data-mode"));
        Assert.Equal("active", page.Find($"[data-testid=schedule-state-{saved.Id}]").GetAttribute("data-state"));
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "Schedule 'weekday retrain' created.");
    }

    [Fact]
    public async Task An_invalid_form_shows_every_problem_at_once_and_saves_nothing()
    {
        await CsvDatasetAsync();
        RenderProviders();
        var page = WaitForForm(Render<SchedulesPage>());

        InputOf(page, "schedule-name").Change("broken");
        InputOf(page, "schedule-cron").Input("61 * * * *");
        InputOf(page, "schedule-time-zone").Input("Mars/Base");
        InputOf(page, "schedule-target-model").Change("Not A Model!");
        // The preview already says what is wrong with the timetable.
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=schedule-cron-problem]").Count));
        page.Find("[data-testid=schedule-save]").Click();

        page.WaitForAssertion(() => Assert.Equal(3, Problems(page).Count()), Wait);
        Assert.Contains(Problems(page), p => p.StartsWith("'61 * * * *' is not a cron expression", StringComparison.Ordinal));
        Assert.Contains(Problems(page), p => p.StartsWith("'Mars/Base' is not a time zone this server knows", StringComparison.Ordinal));
        Assert.Contains(Problems(page), p => p.StartsWith("Target model 'Not A Model!' is not allowed", StringComparison.Ordinal));
        Assert.Contains("This schedule cannot be saved: 3 problems.", page.Find("[data-testid=schedule-form-error]").TextContent);

        // No cron expression and no dataset trigger: the schedule would never fire. A bad cron expression
        // counts as one given, so that problem shows on its own; the time zone is still wrong too.
        InputOf(page, "schedule-cron").Input("");
        InputOf(page, "schedule-target-model").Change("points-model");
        page.Find("[data-testid=schedule-save]").Click();

        page.WaitForAssertion(() => Assert.Contains(Problems(page), p => p.StartsWith("Choose when the schedule fires", StringComparison.Ordinal)), Wait);
        Assert.Contains(Problems(page), p => p.StartsWith("'Mars/Base' is not a time zone", StringComparison.Ordinal));
        Assert.Equal(2, Problems(page).Count());
        Assert.Empty(Db(db => db.Schedules.AsNoTracking().ToList()));
        Assert.NotNull(page.Find("[data-testid=schedule-form]"));
        Assert.NotNull(page.Find("[data-testid=schedules-empty]"));
        Assert.DoesNotContain(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Severity == Severity.Success);
    }

    [Fact]
    public async Task Pause_then_resume_flips_the_state_in_the_database_and_the_row()
    {
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly());
        RenderProviders();
        var page = Render<SchedulesPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-pause-{schedule.Id}]")), Wait);
        Assert.Equal("3", page.Find($"[data-testid=schedule-next-{schedule.Id}]").GetAttribute("data-count"));

        page.Find($"[data-testid=schedule-pause-{schedule.Id}]").Click();

        page.WaitForAssertion(() => Assert.Equal("paused", page.Find($"[data-testid=schedule-{schedule.Id}]").GetAttribute("data-state")), Wait);
        Assert.True(Stored(schedule.Id).Paused);
        Assert.Equal("paused", page.Find($"[data-testid=schedule-state-{schedule.Id}]").GetAttribute("data-state"));
        Assert.Equal("Resume", page.Find($"[data-testid=schedule-pause-{schedule.Id}]").GetAttribute("aria-label"));
        Assert.Equal("0", page.Find($"[data-testid=schedule-next-{schedule.Id}]").GetAttribute("data-count"));
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "Schedule 'nightly' is paused: it does not fire until it is resumed.");

        page.Find($"[data-testid=schedule-pause-{schedule.Id}]").Click();

        page.WaitForAssertion(() => Assert.Equal("active", page.Find($"[data-testid=schedule-{schedule.Id}]").GetAttribute("data-state")), Wait);
        Assert.False(Stored(schedule.Id).Paused);
        Assert.Equal("Pause", page.Find($"[data-testid=schedule-pause-{schedule.Id}]").GetAttribute("aria-label"));
        Assert.Equal("3", page.Find($"[data-testid=schedule-next-{schedule.Id}]").GetAttribute("data-count"));
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "Schedule 'nightly' is active again.");
    }

    [Fact]
    public async Task A_schedule_whose_dataset_was_deleted_says_so_in_red_in_its_row()
    {
        var version = await CsvDatasetAsync("churn");
        var schedule = await CreateAsync(Nightly("churn weekly", "churn"));
        var other = await CsvDatasetAsync("points");
        var healthy = await CreateAsync(Nightly("points nightly", "points"));
        await InScopeAsync(async services =>
        {
            await ActivatorUtilities.CreateInstance<DatasetRemoval>(services).DeleteAsync(version.DatasetId, CancellationToken.None);
            return 0;
        });
        Assert.NotEqual(version.DatasetId, other.DatasetId);

        var page = Render<SchedulesPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-problem-{schedule.Id}]")), Wait);
        var problem = page.Find($"[data-testid=schedule-problem-{schedule.Id}]");
        Assert.Contains("Dataset 'churn' no longer exists.", problem.TextContent);
        Assert.Contains("mud-alert-text-error", problem.ClassName);
        Assert.Empty(page.FindAll($"[data-testid=schedule-problem-{healthy.Id}]"));
    }

    [Fact]
    public async Task A_failed_last_fire_shows_its_reason_as_the_rows_problem()
    {
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly());
        AddFire(new ScheduleFire
        {
            ScheduleId = schedule.Id, FiredAt = DateTime.UtcNow.AddMinutes(-5), Trigger = FireTriggers.Cron, Outcome = FireOutcomes.Failed,
            Reason = "The recipe cannot run: the label column 'label' is gone.", DecidedAt = DateTime.UtcNow,
        });

        var page = Render<SchedulesPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-problem-{schedule.Id}]")), Wait);
        Assert.Contains("the label column 'label' is gone", page.Find($"[data-testid=schedule-problem-{schedule.Id}]").TextContent);
        var last = page.Find($"[data-testid=schedule-last-{schedule.Id}]");
        Assert.Equal(FireOutcomes.Failed, last.GetAttribute("data-outcome"));
        Assert.Contains("failed", last.TextContent);
    }

    [Fact]
    public async Task The_history_shows_each_fire_with_its_outcome_both_figures_and_the_reason()
    {
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly());
        var kept = AddFire(new ScheduleFire
        {
            ScheduleId = schedule.Id, FiredAt = DateTime.UtcNow.AddDays(-2), Trigger = FireTriggers.Cron, TriggerDetail = "cron tick", Outcome = FireOutcomes.Kept,
            Metric = "accuracy", CandidateValue = 0.9125, ProductionValue = 0.9375, ProductionVersion = 2, ModelVersion = 3,
            Reason = "accuracy 0.9125 is not better than Production v2's 0.9375 by 0.01: Production stays.", DecidedAt = DateTime.UtcNow.AddDays(-2),
        });
        var promoted = AddFire(new ScheduleFire
        {
            ScheduleId = schedule.Id, FiredAt = DateTime.UtcNow.AddDays(-1), Trigger = FireTriggers.DatasetVersion, TriggerDetail = "dataset v2", Outcome = FireOutcomes.Promoted,
            Metric = "accuracy", CandidateValue = 0.96, ProductionValue = 0.9375, ProductionVersion = 2, ModelVersion = 4,
            Reason = "accuracy 0.96 beats Production v2's 0.9375 by 0.0225: v4 is promoted.", DecidedAt = DateTime.UtcNow.AddDays(-1),
        });
        // A real fire: dispatch is paused here, so its run stays queued and the fire pending.
        var pending = await InScopeAsync(services =>
            services.GetRequiredService<ScheduleRunner>().FireNowAsync(schedule.Id, FireTriggers.Manual, "by tester", null, CancellationToken.None));
        Assert.NotNull(pending?.RunId);
        Assert.Equal(FireOutcomes.Pending, pending.Outcome);

        var page = Render<SchedulesPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-name-{schedule.Id}]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=schedule-history]"));
        page.Find($"[data-testid=schedule-name-{schedule.Id}]").Click();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=fire-{kept}]")), Wait);
        Assert.Equal(schedule.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), page.Find("[data-testid=schedule-history]").GetAttribute("data-schedule"));
        // Newest first.
        Assert.Equal([$"fire-{pending.Id}", $"fire-{promoted}", $"fire-{kept}"],
            page.FindAll("[data-testid=history-table] tbody tr").Select(r => r.GetAttribute("data-testid") ?? "").ToList());

        Assert.Equal(FireOutcomes.Kept, page.Find($"[data-testid=fire-{kept}]").GetAttribute("data-outcome"));
        Assert.Contains("kept Production", page.Find($"[data-testid=fire-{kept}]").TextContent);
        var keptValues = page.Find($"[data-testid=fire-values-{kept}]").TextContent;
        Assert.Contains("accuracy: 0.9125", keptValues);
        Assert.Contains("Production v2: 0.9375", keptValues);
        Assert.Contains("is not better than Production v2's 0.9375", page.Find($"[data-testid=fire-reason-{kept}]").TextContent);
        Assert.Contains("points-model v3", page.Find($"[data-testid=fire-version-{kept}]").TextContent);
        Assert.Equal("models?model=points-model", page.Find($"[data-testid=fire-version-{kept}] a").GetAttribute("href"));
        Assert.Contains("timetable (cron)", page.Find($"[data-testid=fire-trigger-{kept}]").TextContent);

        Assert.Contains("promoted", page.Find($"[data-testid=fire-{promoted}]").TextContent);
        Assert.Contains("accuracy: 0.96", page.Find($"[data-testid=fire-values-{promoted}]").TextContent);
        Assert.Contains("dataset v2", page.Find($"[data-testid=fire-trigger-{promoted}]").TextContent);

        Assert.Equal(FireOutcomes.Pending, page.Find($"[data-testid=fire-{pending.Id}]").GetAttribute("data-outcome"));
        Assert.Equal($"runs/{pending.RunId}", page.Find($"[data-testid=fire-run-{pending.Id}] a").GetAttribute("href"));
        Assert.Equal("Queued", page.Find($"[data-testid=fire-run-{pending.Id}] [data-status]").GetAttribute("data-status"));
        Assert.Contains("by tester", page.Find($"[data-testid=fire-trigger-{pending.Id}]").TextContent);
        // The row's last fire is the pending one; the run counts.
        Assert.Equal(FireOutcomes.Pending, page.Find($"[data-testid=schedule-last-{schedule.Id}]").GetAttribute("data-outcome"));
        Assert.Equal("1", page.Find($"[data-testid=schedule-runs-{schedule.Id}]").GetAttribute("data-runs"));
        Assert.Equal("1 run(s)", page.Find($"[data-testid=schedule-runs-{schedule.Id}]").TextContent.Trim());

        // The chart: the candidate per decided fire, oldest first, and Production beside it.
        var chart = page.FindComponents<PortalChart>().Single(c => c.Instance.TestId == "fires-chart");
        var traces = chart.Instance.Data.Cast<Scatter>().ToList();
        Assert.Equal(2, traces.Count);
        Assert.Equal([0.9125, 0.96], traces[0].Y.Select(Convert.ToDouble));
        Assert.Equal([0.9375, 0.9375], traces[1].Y.Select(Convert.ToDouble));
    }

    [Fact]
    public async Task A_pending_fire_moves_to_its_outcome_without_a_reload()
    {
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly());
        var fire = AddFire(new ScheduleFire { ScheduleId = schedule.Id, FiredAt = DateTime.UtcNow, Trigger = FireTriggers.Manual, TriggerDetail = "by tester" });
        Services.GetRequiredService<NavigationManager>().NavigateTo($"schedules?schedule={schedule.Id}");

        var page = Render<SchedulesPage>();
        page.WaitForAssertion(() => Assert.Equal(FireOutcomes.Pending, page.Find($"[data-testid=fire-{fire}]").GetAttribute("data-outcome")), Wait);

        // The gate decides behind the page's back.
        Db(db =>
        {
            var row = db.ScheduleFires.Single(f => f.Id == fire);
            row.Outcome = FireOutcomes.Promoted;
            row.Metric = "accuracy";
            row.CandidateValue = 0.97;
            row.ProductionValue = 0.95;
            row.ProductionVersion = 1;
            row.ModelVersion = 2;
            row.Reason = "accuracy 0.97 beats Production v1's 0.95 by 0.02: v2 is promoted.";
            row.DecidedAt = DateTime.UtcNow;
            return db.SaveChanges();
        });

        page.WaitForAssertion(() => Assert.Equal(FireOutcomes.Promoted, page.Find($"[data-testid=fire-{fire}]").GetAttribute("data-outcome")), Wait);
        Assert.Equal(FireOutcomes.Promoted, page.Find($"[data-testid=schedule-last-{schedule.Id}]").GetAttribute("data-outcome"));
        Assert.Contains("Production v1: 0.95", page.Find($"[data-testid=fire-values-{fire}]").TextContent);
    }

    [Fact]
    public async Task With_nothing_pending_the_page_settles()
    {
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly());
        var page = Render<SchedulesPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-{schedule.Id}]")), Wait);
        var renders = page.RenderCount;
        await Task.Delay(2500);
        Assert.True(page.RenderCount - renders < 2, $"{page.RenderCount - renders} renders while idle");
    }

    [Fact]
    public async Task Editing_changes_the_triggers_and_keeps_the_rest_of_the_recipe()
    {
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly() with { Options = new TrainingOptions() with { Epochs = 2, HiddenLayers = [16, 8], Dropout = 0.3 } });
        RenderProviders();
        var page = Render<SchedulesPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-edit-{schedule.Id}]")), Wait);

        page.Find($"[data-testid=schedule-edit-{schedule.Id}]").Click();
        page.WaitForAssertion(() => Assert.Equal("nightly", InputOf(page, "schedule-name").GetAttribute("value")), Wait);
        Assert.Equal("0 3 * * *", InputOf(page, "schedule-cron").GetAttribute("value"));
        InputOf(page, "schedule-cron").Input("15 4 * * 0");
        InputOf(page, "schedule-time-zone").Input("Asia/Shanghai");
        page.Find("[data-testid=schedule-save]").Click();

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=schedule-form]")), Wait);
        var stored = Stored(schedule.Id);
        Assert.Equal("15 4 * * 0", stored.Cron);
        Assert.Equal("Asia/Shanghai", stored.TimeZone);
        var options = ScheduleService.OptionsOf(stored);
        Assert.Equal([16, 8], options.HiddenLayers);
        Assert.Equal(0.3, options.Dropout, 6);
        Assert.Equal(2, options.Epochs);
        Assert.Contains("Asia/Shanghai", page.Find($"[data-testid=schedule-next-{schedule.Id}]").TextContent);
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "Schedule 'nightly' saved.");
    }

    [Fact]
    public async Task Delete_asks_first_and_keeping_it_changes_nothing_while_confirming_removes_it()
    {
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly());
        var dialogs = RenderProviders();
        var page = Render<SchedulesPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-delete-{schedule.Id}]")), Wait);

        page.Find($"[data-testid=schedule-delete-{schedule.Id}]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Delete schedule 'nightly'?", dialogs.Markup), Wait);
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Keep it").Click();
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("Delete schedule 'nightly'?", dialogs.Markup), Wait);
        Assert.Single(Db(db => db.Schedules.AsNoTracking().ToList()));

        page.Find($"[data-testid=schedule-delete-{schedule.Id}]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains(dialogs.FindAll("button"), b => b.TextContent.Trim() == "Delete the schedule"), Wait);
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete the schedule").Click();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=schedules-empty]")), Wait);
        Assert.Empty(Db(db => db.Schedules.AsNoTracking().ToList()));
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "Schedule 'nightly' was deleted.");
    }

    [Fact]
    public async Task Run_now_queues_a_fire_and_opens_the_history()
    {
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly());
        RenderProviders();
        var page = Render<SchedulesPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-run-{schedule.Id}]")), Wait);

        page.Find($"[data-testid=schedule-run-{schedule.Id}]").Click();

        var snackbar = Services.GetRequiredService<ISnackbar>();
        page.WaitForAssertion(() => Assert.Contains(snackbar.ShownSnackbars, s => s.Message == "Schedule 'nightly' fires now; the fire shows in its history in a moment."), Wait);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=schedule-history]")), Wait);
        Assert.Equal(schedule.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), page.Find("[data-testid=schedule-history]").GetAttribute("data-schedule"));
    }

    [Fact]
    public async Task An_action_the_service_refuses_is_a_message_not_a_crash()
    {
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly());
        RenderProviders();
        var page = Render<SchedulesPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-pause-{schedule.Id}]")), Wait);
        var snackbar = Services.GetRequiredService<ISnackbar>();

        // Someone else deletes the schedule; pausing it from the stale row is refused in words.
        await InScopeAsync(async services =>
        {
            await services.GetRequiredService<ScheduleService>().DeleteAsync(schedule.Id, CancellationToken.None);
            return 0;
        });
        page.Find($"[data-testid=schedule-pause-{schedule.Id}]").Click();

        page.WaitForAssertion(() => Assert.Contains($"Schedule {schedule.Id} was not found.", page.Find("[data-testid=schedules-error]").TextContent), Wait);
        Assert.Contains(snackbar.ShownSnackbars, s => s.Severity == Severity.Error);
        Assert.NotNull(page.Find("[data-testid=schedules-empty]"));
    }

    [Fact]
    public async Task The_page_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        await CsvDatasetAsync();
        var schedule = await CreateAsync(Nightly());

        var page = Render<SchedulesPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-{schedule.Id}]")), Wait);
        Assert.Equal("重新训练计划", page.Find("[data-testid=schedules-title]").TextContent.Trim());
        var headings = page.FindAll("[data-testid=schedules-table] th").Select(th => th.TextContent.Trim()).ToList();
        Assert.Contains("配方", headings);
        Assert.Contains("触发条件", headings);
        Assert.Contains("门控", headings);
        Assert.Contains("上次触发", headings);
        Assert.Contains("启用", page.Find($"[data-testid=schedule-state-{schedule.Id}]").TextContent);
        Assert.Equal("立即运行", page.Find($"[data-testid=schedule-run-{schedule.Id}]").GetAttribute("aria-label"));
        Assert.Contains("新建计划", page.Find("[data-testid=schedule-new]").TextContent);
        Assert.Contains("后", page.Find($"[data-testid=schedule-next-{schedule.Id}]").TextContent);
        Assert.DoesNotContain("Retraining schedules", page.Markup);
        Assert.DoesNotContain("Recipe", page.Markup);
    }

    [Fact]
    public void The_navigation_links_to_the_schedules_in_both_languages()
    {
        var layout = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddMarkupContent(0, "<p>page</p>"))));
        var link = layout.FindAll("[data-testid=nav] a").Single(a => a.GetAttribute("href") == "schedules");
        Assert.Contains("Schedules", link.TextContent);
    }

    /// <summary>
    /// The page and its form resolve their localizers in the code-behind, which the repository-wide key
    /// scan does not pair with the markup; this holds every key they ask for to RetrainingText.resx.
    /// </summary>
    [Fact]
    public void Every_key_the_schedule_files_ask_for_is_in_both_languages()
    {
        var folder = Path.Combine(RepoFiles.PortalSource, "Retraining");
        var english = Keys(Path.Combine(folder, "RetrainingText.resx"));
        var chinese = Keys(Path.Combine(folder, "RetrainingText.zh-CN.resx"));
        var files = new[] { "Schedules.razor", "Schedules.razor.cs", "ScheduleForm.razor", "ScheduleForm.razor.cs" };
        var asked = files.SelectMany(f => KeyUse().Matches(File.ReadAllText(Path.Combine(folder, f))).Select(m => Regex.Unescape(m.Groups["key"].Value)))
            .Distinct().ToList();
        Assert.True(asked.Count > 80, $"only {asked.Count} keys found");
        Assert.Empty(asked.Where(k => !english.ContainsKey(k)).Select(k => "not in RetrainingText.resx: " + k));
        Assert.Empty(asked.Where(k => string.IsNullOrWhiteSpace(chinese.GetValueOrDefault(k))).Select(k => "no Chinese for: " + k));
        Assert.DoesNotContain(english.Keys, k => k.StartsWith('#'));
    }

    private static Dictionary<string, string> Keys(string resx) =>
        XDocument.Load(resx).Root!.Elements("data").ToDictionary(d => (string)d.Attribute("name")!, d => (string?)d.Element("value") ?? "", StringComparer.Ordinal);

    [GeneratedRegex(@"(?<![\w.])[Ll]\[\s*""(?<key>(?:[^""\\]|\\.)*)""\s*[\],]")]
    private static partial Regex KeyUse();
}
