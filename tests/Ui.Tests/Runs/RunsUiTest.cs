using System.Text;
using AngleSharp.Dom;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Engine.Training;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.TestSupport;

namespace ModelOps.Ui.Tests.Runs;

/// <summary>Rows the Runs pages read, written through the portal's own services, and a live circuit.</summary>
public abstract class RunsUiTest : PortalUiTest
{
    protected RunsUiTest() => Live();

    /// <summary>Renders as a live circuit does (the pages disable their inputs until then).</summary>
    protected void Live() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    protected Task<DatasetVersion> CsvDatasetAsync(string name = "points", int rows = 300) => InScopeAsync(services =>
        services.GetRequiredService<DatasetIngest>().IngestCsvAsync(name, "label", name + ".csv",
            new MemoryStream(Encoding.UTF8.GetBytes(TestData.SeparableCsv(rows))), CancellationToken.None));

    /// <summary>A launched run's row as RunLauncher writes it (options and their params), without queueing it.</summary>
    protected int TrainingRun(TrainingOptions options, RunStatus status = RunStatus.Running, int? datasetVersionId = null, params (string Key, string Value)[] extraParams) => Db(db =>
    {
        var run = new Run
        {
            Name = "points mlp", Kind = RunKind.Training, Template = options.Template, Optimizer = options.Optimizer, Status = status,
            Source = "UI", CreatedBy = "tester", CreatedAt = DateTime.UtcNow, StartedAt = DateTime.UtcNow, DatasetVersionId = datasetVersionId,
            StatusMessage = "training", CurrentEpoch = 1,
        };
        RunOptions.Write(run, options);
        run.Params.AddRange(RunLauncher.HyperParameterParams(datasetVersionId, options));
        foreach (var (key, value) in extraParams)
            run.Params.Add(new Portal.Tracking.RunParam { Key = key, Value = value, NumValue = Portal.Tracking.TrackingRules.Number(value) });
        db.Runs.Add(run);
        db.SaveChanges();
        return run.Id;
    });

    protected int TrackedRun(string name = "tracked") => Db(db =>
    {
        var run = new Run
        {
            Name = name, Kind = RunKind.Tracked, Template = "", Optimizer = "", Status = RunStatus.Running, Source = "API",
            CreatedBy = "tester", CreatedAt = DateTime.UtcNow, StartedAt = DateTime.UtcNow, StatusMessage = "running",
        };
        db.Runs.Add(run);
        db.SaveChanges();
        return run.Id;
    });

    protected Run RunRow(int id) => Db(db => db.Runs.AsNoTracking().Single(r => r.Id == id));

    /// <summary>The input of a MudBlazor field, whether the test id sits on the input or on a wrapper.</summary>
    protected static IElement InputOf<T>(IRenderedComponent<T> cut, string testId) where T : IComponent
    {
        var element = cut.Find($"[data-testid={testId}]");
        return element.TagName == "INPUT" ? element : element.QuerySelector("input")!;
    }
}
