using Microsoft.EntityFrameworkCore;
using ModelOps.Engine.Models;
using ModelOps.Engine.Training;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

/// <summary>
/// POST /api/v1/runs and the New Run form. <see cref="Options"/> carries every template and
/// hyperparameter choice; the flat fields (template, epochs, ...) are the shorthand older clients send
/// and, when given, override the same option.
/// </summary>
public sealed record NewRunRequest(int DatasetVersionId, string? Name = null, string? IdempotencyKey = null, int? ExperimentId = null)
{
    public TrainingOptions? Options { get; init; }
    public string? Template { get; init; }
    public int? Epochs { get; init; }
    public int? BatchSize { get; init; }
    public double? LearningRate { get; init; }
    public string? Optimizer { get; init; }
    public long? Seed { get; init; }
    public double? ValidationFraction { get; init; }
    public double? TestFraction { get; init; }
    public int? MaxTrainSamples { get; init; }

    /// <summary>The options this request asks for: <see cref="Options"/> (or the defaults) with the flat fields applied.</summary>
    public TrainingOptions ResolveOptions()
    {
        var o = Options ?? new TrainingOptions();
        return o with
        {
            Template = Template ?? o.Template,
            Epochs = Epochs ?? o.Epochs,
            BatchSize = BatchSize ?? o.BatchSize,
            LearningRate = LearningRate ?? o.LearningRate,
            Optimizer = Optimizer ?? o.Optimizer,
            Seed = Seed ?? o.Seed,
            ValidationFraction = ValidationFraction ?? o.ValidationFraction,
            TestFraction = TestFraction ?? o.TestFraction,
            MaxTrainSamples = MaxTrainSamples ?? o.MaxTrainSamples,
        };
    }
}

/// <summary>Which templates and tasks fit which kind of dataset.</summary>
public static class Templates
{
    public const string Mlp = ModelTemplates.Mlp;
    public const string Cnn = ModelTemplates.Cnn;
    public const string TextLstm = ModelTemplates.TextLstm;
    public const string TextCnn = ModelTemplates.TextCnn;

    /// <summary>The templates a dataset of this kind can train, the usual choice first (the engine's list for its input kind).</summary>
    public static IReadOnlyList<string> Fitting(string datasetKind) => ModelTemplates.For(datasetKind switch
    {
        DatasetKinds.Idx => ModelSchema.Image,
        DatasetKinds.Text => ModelSchema.Text,
        _ => ModelSchema.Tabular,
    });

    /// <summary>The usual template for a kind of dataset.</summary>
    public static string For(string datasetKind) => Fitting(datasetKind)[0];

    /// <summary>The tasks a template can learn: regression needs the mlp template.</summary>
    public static IReadOnlyList<string> Tasks(string template) =>
        template == Mlp ? TrainingTasks.All : [TrainingTasks.Classification];
}

/// <summary>Creates runs (queued on the persistent scheduler) and cancels them.</summary>
public sealed class RunLauncher(PortalDb db, RunQueue queue, WorkerProcesses workers, RunEvents events, CurrentUser user, ILogger<RunLauncher> log)
{
    public async Task<Run> LaunchAsync(NewRunRequest request, string source, CancellationToken ct)
    {
        var key = string.IsNullOrWhiteSpace(request.IdempotencyKey) ? null : request.IdempotencyKey.Trim();
        if (key is { Length: > 100 })
            throw PortalException.Invalid("The idempotency key is longer than 100 characters.", "idempotencyKey");
        if (key is not null && await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.IdempotencyKey == key, ct) is { } existing)
        {
            // A replay of a request whose enqueue failed after the save must still end with a job.
            if (existing.Status == RunStatus.Queued) await queue.EnqueueAsync(existing.Id, ct);
            return existing;
        }

        var version = await db.DatasetVersions.AsNoTracking().Include(v => v.Dataset)
            .FirstOrDefaultAsync(v => v.Id == request.DatasetVersionId, ct)
            ?? throw PortalException.NotFound($"Dataset version {request.DatasetVersionId}");
        var options = request.ResolveOptions();
        var problems = Problems(options, version);
        if (problems.Count > 0)
            throw PortalException.InvalidAll(problems);
        var experimentId = request.ExperimentId ?? Tracking.Experiment.DefaultId;
        if (!await db.Experiments.AnyAsync(e => e.Id == experimentId && e.DeletedAt == null, ct))
            throw PortalException.NotFound($"Experiment {experimentId}");

        var run = new Run
        {
            Name = string.IsNullOrWhiteSpace(request.Name)
                ? $"{options.Template} on {version.Dataset!.Name} v{version.Version}"
                : request.Name.Trim()[..Math.Min(request.Name.Trim().Length, 100)],
            ExperimentId = experimentId,
            Kind = RunKind.Training,
            DatasetVersionId = version.Id,
            Template = options.Template,
            Optimizer = options.Optimizer,
            Status = RunStatus.Queued,
            Source = source,
            IdempotencyKey = key,
            CreatedAt = DateTime.UtcNow,
            CreatedBy = user.Name,
            StatusMessage = "waiting for a free worker slot",
        };
        RunOptions.Write(run, options);
        run.Params.AddRange(HyperParameterParams(run.DatasetVersionId, options));
        db.Runs.Add(run);
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = run.CreatedBy, Action = "run.created", Subject = $"dataset-version:{version.Id}", Details = run.Name });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException) when (key is not null)
        {
            // The same form was submitted twice at once; the other request's run stands.
            db.ChangeTracker.Clear();
            return await db.Runs.AsNoTracking().FirstAsync(r => r.IdempotencyKey == key, ct);
        }
        await queue.EnqueueAsync(run.Id, ct);
        log.LogInformation("Queued run {RunId} ({Name})", run.Id, run.Name);
        events.Publish(run);
        return run;
    }

    public async Task CancelAsync(int runId, CancellationToken ct)
    {
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, ct) ?? throw PortalException.NotFound($"Run {runId}");
        if (run.Status.IsTerminal())
            return;
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "run.cancel", Subject = $"run:{runId}" });
        await db.SaveChangesAsync(ct);
        var now = DateTime.UtcNow;
        // Queued -> Cancelled in one statement: if the scheduler dispatched the run meanwhile, no row
        // matches and the cancel goes to the running worker instead.
        var dequeued = await db.Runs.Where(r => r.Id == runId && r.Status == RunStatus.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Cancelled)
                .SetProperty(r => r.EndedAt, now)
                .SetProperty(r => r.StatusMessage, "cancelled before it started"), ct);
        if (dequeued == 1)
        {
            await queue.RemoveAsync(runId, ct);
            await db.Entry(run).ReloadAsync(ct);
        }
        else
        {
            await db.Entry(run).ReloadAsync(ct);
            if (run.Status.IsTerminal()) return;
            run.CancelRequested = true;
            run.StatusMessage = "cancelling";
            await db.SaveChangesAsync(ct);
            workers.RequestCancel(runId);
        }
        events.Publish(run);
    }

    /// <summary>A launched run's settings as params (the options' own flat form), so search and the runs table treat every run alike.</summary>
    public static IEnumerable<Tracking.RunParam> HyperParameterParams(int? datasetVersionId, TrainingOptions options)
    {
        var pairs = options.ToParams().Select(kv => (Key: kv.Key, Value: kv.Value)).ToList();
        static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (datasetVersionId is { } dv) pairs.Add(("dataset_version_id", Text(dv)));
        if (options.MaxTrainSamples is { } max) pairs.Add(("max_train_samples", Text(max)));
        pairs.Add(("device", options.Device));
        return pairs.Select(p => new Tracking.RunParam { Key = p.Key, Value = p.Value, NumValue = Tracking.TrackingRules.Number(p.Value) });
    }

    /// <summary>
    /// Every problem with launching these options on this dataset version: the options' own rules
    /// (<see cref="TrainingOptions.Validate"/>) and what the dataset adds (template and task fit its kind,
    /// a test split when it has no test files). Empty when the run may be created.
    /// </summary>
    public static IReadOnlyList<string> Problems(TrainingOptions options, DatasetVersion version)
    {
        var problems = options.Validate().ToList();
        var fitting = Templates.Fitting(version.Kind);
        if (ModelTemplates.Names.Contains(options.Template) && !fitting.Contains(options.Template))
            problems.Add($"Template '{options.Template}' does not fit a {version.Kind} dataset; use {string.Join(" or ", fitting.Select(t => $"'{t}'"))}.");
        var profile = DatasetIngest.ReadProfile(version);
        if (options.Task == TrainingTasks.Regression && version.Kind == DatasetKinds.Csv && !LabelIsNumeric(profile))
            problems.Add($"Task 'regression' needs a numeric label; the label column '{profile.LabelColumn}' holds text.");
        var hasTestFiles = profile.TestRows is > 0;
        if (options.TestFraction == 0 && !hasTestFiles)
            problems.Add("TestFraction must be greater than 0: this dataset has no test files of its own.");
        return problems;
    }

    private static bool LabelIsNumeric(DatasetProfile profile) =>
        profile.ClassNames is { Count: > 0 } names && names.All(n => double.TryParse(n, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
}
