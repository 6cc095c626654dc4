using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Jobs;
using ModelOps.Portal.Runs;
using ModelOps.Ui.Tests.Registry;
using MudBlazor;
using JobsPage = ModelOps.Portal.Jobs.Jobs;

namespace ModelOps.Ui.Tests.Jobs;

/// <summary>The jobs queue: only what the portal schedules, progress and heartbeat, Cancel behind a confirmation.</summary>
public sealed class JobsPageTests : PortalUiTest
{
    public JobsPageTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    private IRenderedComponent<MudDialogProvider> RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<MudDialogProvider>();
    }

    [Fact]
    public async Task A_client_reported_run_is_not_in_the_queue_and_a_scheduled_queued_run_is()
    {
        var reported = await InScopeAsync(s => RegistryRows.ClientReportedRunAsync(s, "notebook run"));
        var queued = Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued mlp", RunStatus.Queued)));
        // The client's run is Running as far as the client says, which is exactly what used to fill the queue.
        Assert.Equal(RunStatus.Running, Db(db => db.Runs.Single(r => r.Id == reported).Status));

        var page = Render<JobsPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=job-{queued}]")));
        Assert.Empty(page.FindAll($"[data-testid=job-{reported}]"));
        Assert.DoesNotContain("notebook run", page.Find("[data-testid=jobs-table]").TextContent);
        var summary = page.Find("[data-testid=jobs-summary]");
        Assert.Equal("0", summary.GetAttribute("data-running"));
        Assert.Equal("1", summary.GetAttribute("data-queued"));
        Assert.Contains("0 running on 1 worker slot(s) · 1 queued", summary.TextContent);
    }

    [Fact]
    public async Task The_grid_pages_the_same_rows_the_job_queue_query_lists()
    {
        await InScopeAsync(s => RegistryRows.ClientReportedRunAsync(s, "notebook run"));
        var ids = Db(db => new[]
        {
            RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued a", RunStatus.Queued)),
            RegistryRows.AddRun(db, RegistryRows.TrainingRun("running b", RunStatus.Running, 0.2)),
            RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued c", RunStatus.Queued)),
        });
        Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("finished d", RunStatus.Finished)));
        var queue = await Services.GetRequiredService<JobQueueQuery>().ListAsync();

        var page = Render<JobsPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid^=job-link-]").Count));
        var shown = page.FindAll("[data-testid^=job-link-]").Select(a => int.Parse(a.GetAttribute("data-testid")!["job-link-".Length..])).ToList();
        // Running first, then the queue in the order the scheduler takes it: the query's own order.
        Assert.Equal(queue.Jobs.Select(j => j.Id), shown);
        Assert.Equal([ids[1], ids[0], ids[2]], shown);
        Assert.Contains($"{queue.Running} running on {queue.WorkerSlots} worker slot(s) · {queue.Queued} queued", page.Find("[data-testid=jobs-summary]").TextContent);
    }

    [Fact]
    public async Task Only_client_reported_runs_leave_the_queue_empty()
    {
        await InScopeAsync(s => RegistryRows.ClientReportedRunAsync(s, "notebook run"));

        var page = Render<JobsPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=jobs-empty]")), TimeSpan.FromSeconds(10));
        Assert.Equal("0", page.Find("[data-testid=jobs-summary]").GetAttribute("data-running"));
    }

    [Fact]
    public void A_running_job_shows_its_progress_epoch_and_heartbeat()
    {
        var running = Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("running mlp", RunStatus.Running, progress: 0.4)));

        var page = Render<JobsPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=progress-{running}]")));
        Assert.Equal("40", page.Find($"[data-testid=progress-{running}]").GetAttribute("data-value"));
        Assert.Contains("epoch 4 / 10", page.Find("[data-testid=jobs-table]").TextContent);
        Assert.Contains("ago", page.Find($"[data-testid=heartbeat-{running}]").TextContent);
        Assert.Null(page.Find($"[data-testid=heartbeat-{running}]").GetAttribute("data-stale"));
        Assert.Equal("Running", page.Find($"[data-testid=job-status-{running}]").GetAttribute("data-status"));
        Assert.Equal("1", page.Find("[data-testid=jobs-summary]").GetAttribute("data-running"));
    }

    [Fact]
    public void Cancel_asks_first_and_keeping_the_run_changes_nothing()
    {
        var queued = Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued mlp", RunStatus.Queued)));
        var dialogs = RenderProviders();
        var page = Render<JobsPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=cancel-{queued}]")));

        page.Find($"[data-testid=cancel-{queued}]").Click();

        dialogs.WaitForAssertion(() => Assert.Contains($"Cancel run #{queued}?", dialogs.Markup));
        Assert.Contains("'queued mlp' leaves the queue and never starts.", dialogs.Markup);
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Keep it").Click();
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("Cancel run #", dialogs.Markup));
        Assert.Equal(RunStatus.Queued, Db(db => db.Runs.AsNoTracking().Single(r => r.Id == queued).Status));
    }

    [Fact]
    public async Task Confirming_cancel_takes_a_queued_run_out_of_the_queue()
    {
        // Cancelling a queued run also deletes its Hangfire job: the job host is created (dispatch stays paused).
        var scheduler = Services.GetRequiredService<global::ModelOps.Jobs.Scheduling.JobsHost>();
        await scheduler.StartAsync(CancellationToken.None);
        var queued = Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued mlp", RunStatus.Queued)));
        var dialogs = RenderProviders();
        var page = Render<JobsPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=cancel-{queued}]")));

        page.Find($"[data-testid=cancel-{queued}]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains(dialogs.FindAll("button"), b => b.TextContent.Trim() == "Cancel the run"));
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel the run").Click();

        page.WaitForAssertion(() => Assert.Empty(page.FindAll($"[data-testid=job-{queued}]")), TimeSpan.FromSeconds(10));
        Assert.Equal(RunStatus.Cancelled, Db(db => db.Runs.AsNoTracking().Single(r => r.Id == queued).Status));
        var snackbar = Services.GetRequiredService<ISnackbar>();
        Assert.Contains(snackbar.ShownSnackbars, s => s.Message == $"Run #{queued} was cancelled.");
        Assert.Equal("0", page.Find("[data-testid=jobs-summary]").GetAttribute("data-queued"));
        await scheduler.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void The_queue_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        var queued = Db(db => RegistryRows.AddRun(db, RegistryRows.TrainingRun("queued mlp", RunStatus.Queued)));

        var page = Render<JobsPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=job-{queued}]")));
        Assert.Contains("作业队列", page.Markup);
        Assert.Contains("1 个工作槽上有 0 个运行中 · 1 个排队", page.Find("[data-testid=jobs-summary]").TextContent);
        Assert.Contains("排队中", page.Find($"[data-testid=job-status-{queued}]").TextContent);
        Assert.Contains("取消", page.Find($"[data-testid=cancel-{queued}]").TextContent);
        Assert.DoesNotContain("Nothing is queued", page.Markup);
    }

    [Fact]
    public async Task Each_row_shows_its_slot_queue_its_place_in_it_and_a_running_runs_eta()
    {
        Run Queued(string name, string queue, int minutesAgo)
        {
            var run = RegistryRows.TrainingRun(name, RunStatus.Queued);
            run.Queue = queue;
            run.CreatedAt = DateTime.UtcNow.AddMinutes(-minutesAgo);
            return run;
        }
        var ids = Db(db => new[]
        {
            RegistryRows.AddRun(db, Queued("cpu first", "cpu", 9)),
            RegistryRows.AddRun(db, Queued("gpu first", "gpu", 8)),
            RegistryRows.AddRun(db, Queued("cpu second", "cpu", 7)),
        });
        var running = RegistryRows.TrainingRun("training", RunStatus.Running, 0.25);
        running.Queue = "cpu";
        running.Device = "cpu";
        running.StartedAt = DateTime.UtcNow.AddMinutes(-1);
        var runningId = Db(db => RegistryRows.AddRun(db, running));
        var queue = await Services.GetRequiredService<JobQueueQuery>().ListAsync();

        var page = Render<JobsPage>();

        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-testid^=job-link-]").Count));
        string? Place(int id) => page.Find($"[data-testid=slot-{id}]").GetAttribute("data-position");
        Assert.Equal(["1", "1", "2"], ids.Select(Place));
        Assert.Equal("#2 in the cpu queue", page.Find($"[data-testid=slot-{ids[2]}]").TextContent.Trim());
        // The query that sums the queue places them the same way.
        Assert.Equal([1, 1, 2], ids.Select(id => queue.Jobs.Single(j => j.Id == id).Position!.Value));
        Assert.Equal("cpu queue · cpu", page.Find($"[data-testid=slot-{runningId}]").TextContent.Trim());
        // A quarter done after a minute: three more minutes at that pace.
        Assert.StartsWith("3 min", page.Find($"[data-testid=eta-{runningId}]").TextContent.Trim());
        Assert.Equal("—", page.Find($"[data-testid=eta-{ids[0]}]").TextContent.Trim());
        // No CUDA LibTorch is configured here: the cpu queue only, and the Hangfire dashboard one click away.
        Assert.Equal("0", page.Find("[data-testid=jobs-slots]").GetAttribute("data-gpu"));
        Assert.Equal("/hangfire", page.Find("[data-testid=hangfire-dashboard]").GetAttribute("href"));
    }
}
