using Microsoft.Extensions.DependencyInjection;
using ModelOps.Engine.Training;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using MudBlazor;

namespace ModelOps.Ui.Tests.Runs;

/// <summary>The run page: applicable params only, latest metrics that move with the curves, the cancel confirmation, both languages.</summary>
public sealed class RunDetailTests : RunsUiTest
{
    private IRenderedComponent<RunDetail> RenderRun(int id) => Render<RunDetail>(p => p.Add(r => r.Id, id));

    private void Publish(int runId, RunStatus status, params MetricPointView[] points) =>
        Services.GetRequiredService<RunEvents>().Publish(new RunUpdate(runId, status, 0.5, 1, 3, "training", points));

    [Fact]
    public void An_mlp_run_lists_only_the_params_that_apply_to_it()
    {
        // An older worker logged every option; the page shows those an mlp uses and the run's own extras.
        var id = TrainingRun(new TrainingOptions { Epochs = 3 }, RunStatus.Finished, null,
            ("conv_blocks", "2"), ("vocabulary_size", "20000"), ("embedding_dim", "64"), ("frozen_layers", "0"), ("note", "kept"));
        var page = RenderRun(id);
        var parameters = page.WaitForElement("[data-testid=run-params]");
        var keys = parameters.QuerySelectorAll("tr[data-param]").Select(r => r.GetAttribute("data-param")).ToList();
        Assert.Contains("hidden_layers", keys);
        Assert.Contains("optimizer", keys);
        Assert.Contains("frozen_layers", keys);
        Assert.Contains("note", keys);
        Assert.DoesNotContain("conv_blocks", keys);
        Assert.DoesNotContain("vocabulary_size", keys);
        Assert.DoesNotContain("embedding_dim", keys);
        Assert.DoesNotContain("momentum", keys);
    }

    [Fact]
    public void The_engine_logs_only_what_applies_and_an_embedding_encoding_keeps_its_width()
    {
        var mlp = new TrainingOptions().ToParams();
        Assert.DoesNotContain("conv_blocks", mlp.Keys);
        Assert.DoesNotContain("vocabulary_size", mlp.Keys);
        Assert.DoesNotContain("embedding_dim", mlp.Keys);
        var shown = RunParamsView.Applicable(new Dictionary<string, string> { ["embedding_dim"] = "8", ["conv_blocks"] = "2" },
            new TrainingOptions { CategoricalEncoding = CategoricalEncodings.Embedding });
        Assert.Equal(["embedding_dim"], shown.Select(p => p.Key));
    }

    [Fact]
    public void Latest_metrics_update_live_with_the_curves()
    {
        var id = TrainingRun(new TrainingOptions { Epochs = 3 });
        var page = RenderRun(id);
        page.WaitForElement("[data-testid=run-no-metrics]");
        Assert.Equal("0", page.Find("[data-testid=loss-points]").GetAttribute("data-points"));

        Publish(id, RunStatus.Running, new MetricPointView("train_loss", 1, 0.75), new MetricPointView("val_accuracy", 1, 0.5));
        page.WaitForAssertion(() =>
        {
            var row = page.Find("[data-testid=run-latest-metrics] tr[data-metric=train_loss]");
            Assert.Contains("0.75", row.TextContent);
            Assert.Equal("1", page.Find("[data-testid=loss-points]").GetAttribute("data-points"));
            Assert.Equal("1", page.Find("[data-testid=accuracy-points]").GetAttribute("data-points"));
        });
        Assert.Empty(page.FindAll("[data-testid=run-no-metrics]"));

        Publish(id, RunStatus.Running, new MetricPointView("train_loss", 2, 0.5));
        page.WaitForAssertion(() =>
        {
            var row = page.Find("[data-testid=run-latest-metrics] tr[data-metric=train_loss]");
            Assert.Equal("2", row.GetAttribute("data-step"));
            Assert.Contains("0.5", row.TextContent);
            Assert.Equal("2", page.Find("[data-testid=loss-points]").GetAttribute("data-points"));
        });
        // The same step again (an event and the store's catch-up) is drawn once.
        Publish(id, RunStatus.Running, new MetricPointView("train_loss", 2, 0.5));
        Assert.Equal("2", page.Find("[data-testid=loss-points]").GetAttribute("data-points"));
    }

    [Fact]
    public void A_tracked_run_gets_a_chart_per_metric_that_grows_live()
    {
        var id = TrackedRun();
        var page = RenderRun(id);
        page.WaitForElement("[data-testid=run-no-metrics]");
        Publish(id, RunStatus.Running, new MetricPointView("loss", 1, 2.0), new MetricPointView("loss", 2, 1.5));
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=metric-chart-loss]")));
        Publish(id, RunStatus.Running, new MetricPointView("loss", 3, 1.0));
        page.WaitForAssertion(() =>
        {
            Assert.Equal("3", page.Find("[data-testid=run-latest-metrics] tr[data-metric=loss]").GetAttribute("data-step"));
            Assert.Equal("3", page.Find("[data-testid=metric-charts] [data-points]").GetAttribute("data-points"));
        });
    }

    [Fact]
    public void Cancelling_a_run_asks_first()
    {
        var id = TrainingRun(new TrainingOptions(), RunStatus.Queued);
        var dialogs = Render<MudDialogProvider>();
        var page = RenderRun(id);
        page.WaitForElement("[data-testid=cancel-run]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("A cancelled run cannot be resumed.", dialogs.Markup));
        dialogs.FindAll("button").Single(b => b.TextContent.Contains("Keep running")).Click();
        Assert.Equal(RunStatus.Queued, RunRow(id).Status);
    }

    [Fact]
    public void A_client_reported_run_is_ended_from_its_page_not_cancelled()
    {
        var id = TrackedRun();
        var dialogs = Render<MudDialogProvider>();
        var page = RenderRun(id);
        Assert.Empty(page.FindAll("[data-testid=cancel-run]"));
        page.WaitForElement("[data-testid=end-run-killed]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Its script is not stopped by this", dialogs.Markup));
        dialogs.FindAll("button").Single(b => b.TextContent.Contains("Mark as killed")).Click();
        page.WaitForAssertion(() => Assert.Equal(RunStatus.Cancelled, RunRow(id).Status));
        Assert.NotNull(RunRow(id).EndedAt);
        page.WaitForAssertion(() => Assert.Equal("Cancelled", page.Find("[data-testid=run-status]").GetAttribute("data-status")));
        Assert.Empty(page.FindAll("[data-testid=end-run-finished]"));
    }

    [Fact]
    public void Inputs_wait_for_the_circuit()
    {
        var id = TrainingRun(new TrainingOptions(), RunStatus.Queued);
        SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Static", isInteractive: false));
        var page = RenderRun(id);
        Assert.True(page.WaitForElement("[data-testid=cancel-run]").HasAttribute("disabled"));
    }

    [Fact]
    public void The_cross_validation_panel_shows_folds_means_and_a_chart_per_figure()
    {
        var folds = Enumerable.Range(1, 3).Select(i => new FoldDto(i, 100, 50, 4, new Dictionary<string, double> { ["accuracy"] = 0.8 + i / 100.0, ["loss"] = 0.4 })).ToList();
        var report = new CrossValidationDto(3, folds, new Dictionary<string, double> { ["accuracy"] = 0.82, ["loss"] = 0.4 },
            new Dictionary<string, double> { ["accuracy"] = 0.01, ["loss"] = 0 }, 5);
        var panel = Render<CrossValidationPanel>(p => p.Add(c => c.RunId, 1).Add(c => c.K, 3).Add(c => c.Folds, folds).Add(c => c.Report, report));
        Assert.Equal(3, panel.FindAll("[data-testid^=cv-fold-]").Count);
        Assert.Contains("±", panel.Find("[data-testid=cv-mean-accuracy]").TextContent);
        Assert.Contains("5 epochs", panel.Find("[data-testid=cv-refit-note]").TextContent);
        Assert.NotNull(panel.Find("[data-testid=cv-chart]"));
        Assert.NotNull(panel.Find("[data-testid=cv-chart-loss]"));
    }

    [Fact]
    public void The_run_page_speaks_chinese_in_zh_CN()
    {
        var id = TrainingRun(new TrainingOptions { Optimizer = Optimizers.AdamW, WeightDecay = 0.01 }, RunStatus.Finished);
        UseCulture(PortalCultures.Chinese);
        var page = RenderRun(id);
        page.WaitForElement("[data-testid=run-details]");
        Assert.Contains("最新指标", page.Markup);
        Assert.Contains("已完成", page.Find("[data-testid=run-status]").TextContent);
        Assert.Contains("adamw，学习率 0.001，权重衰减 0.01", page.Find("[data-testid=run-opt-optimizer]").TextContent);
        Assert.DoesNotContain("Latest metrics", page.Markup);
    }
}
