using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Engine.Training;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;
using ModelOps.Ui.Tests.Registry;
using HomePage = ModelOps.Portal.Home.Home;

namespace ModelOps.Ui.Tests;

// Compute and its cost on the pages (docs/cost.md). Prices here are the defaults: 2.50 per GPU hour, 0.05 per CPU core hour, USD.

/// <summary>The run page: GPU time, CPU core time and cost in the details, the System card's charts from the store.</summary>
public sealed class RunComputeTests : Runs.RunsUiTest
{
    private void Measure(int runId, double gpuSeconds, double cpuSeconds) => Db(db =>
    {
        var run = db.Runs.Single(r => r.Id == runId);
        RunCompute.Record(run, 1, new global::ModelOps.Jobs.Protocol.ComputeUsage(gpuSeconds, cpuSeconds));
        return db.SaveChanges();
    });

    private Task LogAsync(int runId, params (string Key, long Step, double Value)[] points) => InScopeAsync(async sp =>
    {
        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await sp.GetRequiredService<TrackingStore>().WriteAsync(sp.GetRequiredService<PortalDb>(), runId,
            new ValidBatch(points.Select(p => new PointRow(p.Key, p.Step, at + p.Step, p.Value)).ToList(), new Dictionary<string, string>(), new Dictionary<string, string>()),
            CancellationToken.None);
        return true;
    });

    [Fact]
    public async Task A_training_run_shows_its_compute_its_cost_and_the_system_charts()
    {
        var id = TrainingRun(new TrainingOptions { Epochs = 3 }, RunStatus.Finished);
        Measure(id, 7200, 3600);
        await LogAsync(id, ("train_loss", 1, 0.7), ("system/cpu_percent", 2, 180), ("system/cpu_percent", 4, 190), ("system/memory_mib", 2, 512), ("system/memory_mib", 4, 530));

        var page = Render<RunDetail>(p => p.Add(r => r.Id, id));

        page.WaitForAssertion(() => Assert.Equal("4", page.Find("[data-testid=system-points]").GetAttribute("data-points")));
        Assert.NotNull(page.Find("[data-testid=system-card] [data-testid=system-usage-chart]"));
        Assert.NotNull(page.Find("[data-testid=system-card] [data-testid=system-memory-chart]"));
        Assert.Equal("2 h 0 min", page.Find("[data-testid=run-gpu-time]").TextContent.Trim());
        Assert.Equal("3600", page.Find("[data-testid=run-cpu-time]").GetAttribute("data-seconds"));
        Assert.Equal("1 h 0 min", page.Find("[data-testid=run-cpu-time]").TextContent.Trim());
        // 2 GPU hours at 2.50 and 1 CPU core hour at 0.05.
        Assert.StartsWith("5.05 USD", page.Find("[data-testid=run-cost]").TextContent.Trim());
        // The System card shows the worker's figures; the latest-metrics table keeps to the model's.
        var latest = page.Find("[data-testid=run-latest-metrics]");
        Assert.NotNull(latest.QuerySelector("tr[data-metric=train_loss]"));
        Assert.Null(latest.QuerySelector("tr[data-metric='system/cpu_percent']"));
    }

    [Fact]
    public async Task System_points_arrive_live_on_the_charts()
    {
        var id = TrainingRun(new TrainingOptions { Epochs = 3 });
        var page = Render<RunDetail>(p => p.Add(r => r.Id, id));
        page.WaitForElement("[data-testid=system-card]");
        Assert.Equal("0", page.Find("[data-testid=system-points]").GetAttribute("data-points"));
        Services.GetRequiredService<RunEvents>().Publish(new RunUpdate(id, RunStatus.Running, 0.5, 1, 3, "training",
            [new MetricPointView("system/cpu_percent", 2, 99), new MetricPointView("system/gpu_percent", 2, 40)]));
        page.WaitForAssertion(() => Assert.Equal("2", page.Find("[data-testid=system-points]").GetAttribute("data-points")));
        await Task.CompletedTask;
    }

    [Fact]
    public void A_tracked_run_has_no_worker_so_no_compute_and_no_system_card()
    {
        var id = TrackedRun();
        var page = Render<RunDetail>(p => p.Add(r => r.Id, id));
        page.WaitForElement("[data-testid=run-details]");
        Assert.Equal("—", page.Find("[data-testid=run-cpu-time]").TextContent.Trim());
        Assert.Equal("—", page.Find("[data-testid=run-cost]").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid=system-card]"));
    }

    [Fact]
    public void The_run_page_names_compute_in_chinese()
    {
        UseCulture(PortalCultures.Chinese);
        var id = TrainingRun(new TrainingOptions { Epochs = 3 }, RunStatus.Finished);
        Measure(id, 0, 90);
        var page = Render<RunDetail>(p => p.Add(r => r.Id, id));
        page.WaitForElement("[data-testid=run-details]");
        Assert.Contains("CPU 核心时间", page.Markup);
        Assert.Contains("计算成本", page.Markup);
        Assert.Contains("系统", page.Find("[data-testid=system-card]").TextContent);
        Assert.DoesNotContain("CPU core time", page.Markup);
    }
}

/// <summary>The runs table's cost column, sorted in SQL, and the experiment's total.</summary>
public sealed class RunsTableComputeTests : Tracking.TrackingUiTest
{
    [Fact]
    public async Task The_runs_table_has_a_sortable_cost_column_and_the_experiment_its_total()
    {
        var experiment = (await CreateExperimentAsync("costs")).Id;
        var ids = new List<int>();
        foreach (var (gpu, cpu) in new[] { (0.0, 36.0), (3600.0, 0.0), (0.0, 7200.0) })
        {
            var id = await CreateRunAsync(experiment, $"run-{ids.Count}", new Dictionary<string, string>(), new Dictionary<string, double[]> { ["loss"] = [1.0] });
            Db(db =>
            {
                var run = db.Runs.Single(r => r.Id == id);
                RunCompute.Record(run, 1, new global::ModelOps.Jobs.Protocol.ComputeUsage(gpu, cpu));
                return db.SaveChanges();
            });
            ids.Add(id);
        }
        var unmeasured = await CreateRunAsync(experiment, "tracked", new Dictionary<string, string>(), new Dictionary<string, double[]> { ["loss"] = [1.0] });

        Nav.NavigateTo($"experiments?experiment={experiment}&order=attributes.cost%20DESC");
        var page = Render<Experiments>();
        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("tr.run-row").Count));

        // 1 GPU hour (2.50), 2 CPU core hours (0.10), 36 CPU core-seconds (0.0005), then the run nobody measured.
        var names = page.FindAll("[data-testid=run-name-cell]").Select(c => c.TextContent).ToList();
        Assert.Equal(["run-1", "run-2", "run-0", "tracked"], names);
        var costs = page.FindAll("[data-col=cost]").Select(c => c.TextContent.Trim()).ToList();
        Assert.Equal(["2.50 USD", "0.10 USD", "0.0005 USD", "—"], costs);
        Assert.Contains("▼", page.Find("[data-testid=sort-cost]").TextContent);

        var total = page.Find("[data-testid=experiment-compute]");
        Assert.Equal((3600.0).ToString("R", System.Globalization.CultureInfo.InvariantCulture), total.GetAttribute("data-gpu-seconds"));
        Assert.Contains("1 GPU h", total.TextContent);
        Assert.Equal("2.60 USD", page.Find("[data-testid=experiment-cost]").TextContent.Trim());
        GC.KeepAlive(unmeasured);
    }
}

/// <summary>The overview's compute this month and the models page's total per model.</summary>
public sealed class ComputeTotalsTests : PortalUiTest
{
    public ComputeTotalsTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    private static Run Spent(Run run, double gpu, double cpu, DateTime? ended = null)
    {
        RunCompute.Record(run, 1, new global::ModelOps.Jobs.Protocol.ComputeUsage(gpu, cpu));
        if (ended is not null) run.EndedAt = ended;
        return run;
    }

    [Fact]
    public void The_overview_totals_this_months_compute_by_run_end_date()
    {
        var now = DateTime.UtcNow;
        Db(db =>
        {
            RegistryRows.AddRun(db, Spent(RegistryRows.TrainingRun("this month gpu", RunStatus.Finished), 1800, 600));
            RegistryRows.AddRun(db, Spent(RegistryRows.TrainingRun("this month cpu", RunStatus.Failed), 0, 3000));
            // Ended last month: not this month's.
            RegistryRows.AddRun(db, Spent(RegistryRows.TrainingRun("last month", RunStatus.Finished), 36000, 36000,
                new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(-1)));
            // Still training: counts in the month it ends.
            RegistryRows.AddRun(db, Spent(RegistryRows.TrainingRun("running", RunStatus.Running), 999, 999));
            return 0;
        });

        var page = Render<HomePage>();

        Assert.Equal("1800", page.Find("[data-testid=month-gpu-hours]").GetAttribute("data-seconds"));
        Assert.Equal("0.5", page.Find("[data-testid=month-gpu-hours]").TextContent.Trim());
        Assert.Equal("3600", page.Find("[data-testid=month-cpu-hours]").GetAttribute("data-seconds"));
        Assert.Equal("1", page.Find("[data-testid=month-cpu-hours]").TextContent.Trim());
        // 0.5 GPU hours at 2.50 and 1 CPU core hour at 0.05.
        Assert.Equal("1.30 USD", page.Find("[data-testid=month-cost]").TextContent.Trim());
        Assert.Contains("GPU 1.25 USD · CPU 0.05 USD", page.Find("[data-testid=month-compute]").TextContent);
    }

    [Fact]
    public void The_overview_names_the_months_compute_in_chinese()
    {
        UseCulture(PortalCultures.Chinese);
        var page = Render<HomePage>();
        var card = page.Find("[data-testid=month-compute]").TextContent;
        Assert.Contains("本月计算量", card);
        Assert.Contains("GPU 小时", card);
        Assert.Contains("CPU 核心小时", card);
        Assert.DoesNotContain("Compute this month", card);
    }

    [Fact]
    public void A_models_compute_is_the_sum_of_the_runs_behind_its_versions_each_once()
    {
        Db(db =>
        {
            RegistryRows.AddModel(db, "points-model", ModelStages.Production, ModelStages.None);
            var runs = db.Runs.Where(r => r.Name.StartsWith("points-model")).OrderBy(r => r.Id).ToList();
            Spent(runs[0], 3600, 0);
            Spent(runs[1], 0, 3600);
            db.SaveChanges();
            // The first run registered once more as v3: trained once, counted once.
            var model = db.RegisteredModels.Single(m => m.Name == "points-model");
            db.ModelVersions.Add(new ModelVersion
            {
                RegisteredModelId = model.Id, Version = 3, RunId = runs[0].Id, Stage = ModelStages.None, CreatedAt = DateTime.UtcNow, CreatedBy = "ada",
                ArtifactPath = $"models/{model.Id}/v3/model.mop",
            });
            RegistryRows.AddModel(db, "other-model", ModelStages.Staging);
            return db.SaveChanges();
        });

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=model-cost-points-model]")));
        Assert.Equal("2.55 USD", page.Find("[data-testid=model-cost-points-model]").TextContent.Trim());
        Assert.Equal("0.00 USD", page.Find("[data-testid=model-cost-other-model]").TextContent.Trim());
    }
}
