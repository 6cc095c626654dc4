using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Engine.Training;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Retraining;
using ModelOps.TestSupport;
using MudBlazor;
using SchedulesPage = ModelOps.Portal.Retraining.Schedules;

namespace ModelOps.Ui.Tests.Retraining;

/// <summary>The Schedules page by team and role: another team's schedules are not listed, a Viewer gets no buttons, forged actions are refused.</summary>
public sealed class SchedulesAccessTests : PortalUiTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public SchedulesAccessTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    private void RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        Render<MudDialogProvider>();
    }

    private Task<DatasetVersion> CsvDatasetAsync(string name) => InScopeAsync(services =>
        services.GetRequiredService<DatasetIngest>().IngestCsvAsync(name, "label", name + ".csv",
            new MemoryStream(Encoding.UTF8.GetBytes(TestData.SeparableCsv(300))), CancellationToken.None));

    private Task<Schedule> CreateAsync(string name) => InScopeAsync(services => services.GetRequiredService<ScheduleService>().CreateAsync(new ScheduleRequest
    {
        Name = name, Dataset = "points", TargetModel = "points-model", Cron = "0 3 * * *", TimeZone = "UTC",
        Options = new TrainingOptions() with { Epochs = 2, BatchSize = 32 },
        GateMode = GateModes.Promote, GateMetric = "accuracy", GateMargin = 0.01,
    }, CancellationToken.None));

    private async Task<int> OtherTeamAsync() =>
        (await InScopeAsync(sp => sp.GetRequiredService<People>().CreateTeamAsync("other", null, CancellationToken.None))).Id;

    private Task<ScheduleView> ViewOfAsync(int id) => InScopeAsync(async sp =>
        (await sp.GetRequiredService<ScheduleService>().ListAsync(CancellationToken.None)).Single(v => v.Schedule.Id == id));

    private Schedule Stored(int id) => Db(db => db.Schedules.AsNoTracking().Single(s => s.Id == id));

    [Fact]
    public async Task Another_teams_schedule_is_not_listed_and_a_viewer_gets_no_buttons()
    {
        await CsvDatasetAsync("points");
        var ours = await CreateAsync("ours");
        var theirs = await CreateAsync("theirs");
        var other = await OtherTeamAsync();
        Db(db => db.Schedules.Where(s => s.Id == theirs.Id).ExecuteUpdate(u => u.SetProperty(s => s.TeamId, other)));
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();

        var page = Render<SchedulesPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-name-{ours.Id}]")), Wait);
        Assert.Empty(page.FindAll($"[data-testid=schedule-name-{theirs.Id}]"));
        Assert.Empty(page.FindAll("[data-testid=schedule-new]"));
        Assert.Empty(page.FindAll($"[data-testid=schedule-run-{ours.Id}]"));
        Assert.Empty(page.FindAll($"[data-testid=schedule-pause-{ours.Id}]"));
        Assert.Empty(page.FindAll($"[data-testid=schedule-edit-{ours.Id}]"));
        Assert.Empty(page.FindAll($"[data-testid=schedule-delete-{ours.Id}]"));

        var view = await ViewOfAsync(ours.Id);
        await page.InvokeAsync(() => page.Instance.SetPausedAsync(view, true));
        page.Render();
        page.WaitForAssertion(() => Assert.Contains("Editor", page.Find("[data-testid=schedules-error]").TextContent), Wait);
        Assert.False(Stored(ours.Id).Paused);

        await page.InvokeAsync(() => page.Instance.RunNowAsync(view));

        page.Render();
        Assert.Equal(0, Db(db => db.ScheduleFires.Count()));

        await page.InvokeAsync(() => page.Instance.DeleteAsync(view));

        page.Render();
        page.WaitForAssertion(() => Assert.Contains("Admin", page.Find("[data-testid=schedules-error]").TextContent), Wait);
        Assert.NotNull(Stored(ours.Id));
    }

    [Fact]
    public async Task An_editor_pauses_but_cannot_delete()
    {
        await CsvDatasetAsync("points");
        var ours = await CreateAsync("ours");
        await SignInAsync("ed", TeamRole.Editor);
        RenderProviders();

        var page = Render<SchedulesPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=schedule-pause-{ours.Id}]")), Wait);
        Assert.NotNull(page.Find("[data-testid=schedule-new]"));
        Assert.Empty(page.FindAll($"[data-testid=schedule-delete-{ours.Id}]"));

        var view = await ViewOfAsync(ours.Id);
        await page.InvokeAsync(() => page.Instance.SetPausedAsync(view, true));
        page.Render();
        Assert.True(Stored(ours.Id).Paused);

        await page.InvokeAsync(() => page.Instance.DeleteAsync(view));

        page.Render();
        page.WaitForAssertion(() => Assert.Contains("Admin", page.Find("[data-testid=schedules-error]").TextContent), Wait);
        Assert.NotNull(Stored(ours.Id));
    }

    [Fact]
    public async Task The_form_offers_the_teams_datasets_and_refuses_a_viewers_save()
    {
        await CsvDatasetAsync("points");
        var foreign = await CsvDatasetAsync("foreign");
        var ours = await CreateAsync("ours");
        var other = await OtherTeamAsync();
        Db(db => db.Datasets.Where(d => d.Id == foreign.DatasetId).ExecuteUpdate(u => u.SetProperty(d => d.TeamId, other)));
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();

        var form = Render<ScheduleForm>(p => p.Add(f => f.EditId, ours.Id).Add(f => f.Initial, ScheduleRequest.From(Stored(ours.Id))));

        form.WaitForAssertion(() => Assert.NotNull(form.Find("[data-testid=schedule-name]")), Wait);
        var offered = (System.Collections.IEnumerable)typeof(ScheduleForm)
            .GetField("datasets", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(form.Instance)!;
        var names = offered.Cast<object>().Select(d => (string)d.GetType().GetProperty("Name")!.GetValue(d)!).ToList();
        Assert.Equal(["points"], names);

        await form.InvokeAsync(() => form.Instance.SaveAsync());

        form.Render();
        form.WaitForAssertion(() => Assert.Contains("Editor", form.Find("[data-testid=schedule-form-error]").TextContent), Wait);
    }
}
