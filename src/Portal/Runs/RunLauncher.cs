using Microsoft.EntityFrameworkCore;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

public sealed record NewRunRequest(
    int DatasetVersionId, string Template, int Epochs, int BatchSize, double LearningRate, string Optimizer,
    long Seed, double ValidationFraction, double TestFraction, int? MaxTrainSamples, string? Name, string? IdempotencyKey,
    int? ExperimentId = null);

public static class Templates
{
    public const string Mlp = "mlp";
    public const string Cnn = "cnn";

    /// <summary>Which template fits which kind of dataset.</summary>
    public static string For(string datasetKind) => datasetKind == DatasetKinds.Idx ? Cnn : Mlp;
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
        Validate(request, version);
        var experimentId = request.ExperimentId ?? Tracking.Experiment.DefaultId;
        if (!await db.Experiments.AnyAsync(e => e.Id == experimentId && e.DeletedAt == null, ct))
            throw PortalException.NotFound($"Experiment {experimentId}");

        var run = new Run
        {
            Name = string.IsNullOrWhiteSpace(request.Name)
                ? $"{request.Template} on {version.Dataset!.Name} v{version.Version}"
                : request.Name.Trim()[..Math.Min(request.Name.Trim().Length, 100)],
            ExperimentId = experimentId,
            Kind = RunKind.Training,
            DatasetVersionId = version.Id,
            Template = request.Template,
            Epochs = request.Epochs,
            BatchSize = request.BatchSize,
            LearningRate = request.LearningRate,
            Optimizer = request.Optimizer,
            Seed = request.Seed,
            ValidationFraction = request.ValidationFraction,
            TestFraction = request.TestFraction,
            MaxTrainSamples = request.MaxTrainSamples,
            Status = RunStatus.Queued,
            Source = source,
            IdempotencyKey = key,
            CreatedAt = DateTime.UtcNow,
            CreatedBy = user.Name,
            StatusMessage = "waiting for a free worker slot",
        };
        run.Params.AddRange(HyperParameterParams(run));
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

    /// <summary>A launched run's settings as params, so search and the runs table treat every run alike.</summary>
    public static IEnumerable<Tracking.RunParam> HyperParameterParams(Run run)
    {
        static string Text(IFormattable value) => value.ToString(null, System.Globalization.CultureInfo.InvariantCulture);
        var pairs = new List<(string Key, string Value)>
        {
            ("template", run.Template), ("optimizer", run.Optimizer), ("epochs", Text(run.Epochs)), ("batch_size", Text(run.BatchSize)),
            ("learning_rate", Text(run.LearningRate)), ("seed", Text(run.Seed)), ("validation_fraction", Text(run.ValidationFraction)),
            ("test_fraction", Text(run.TestFraction)),
        };
        if (run.DatasetVersionId is { } dv) pairs.Add(("dataset_version_id", Text(dv)));
        if (run.MaxTrainSamples is { } max) pairs.Add(("max_train_samples", Text(max)));
        return pairs.Select(p => new Tracking.RunParam { Key = p.Key, Value = p.Value, NumValue = Tracking.TrackingRules.Number(p.Value) });
    }

    private static void Validate(NewRunRequest r, DatasetVersion version)
    {
        if (r.Template is not (Templates.Mlp or Templates.Cnn))
            throw PortalException.Invalid($"Template '{r.Template}' is unknown; use 'mlp' (tabular) or 'cnn' (28x28 images).", "template");
        if (r.Template != Templates.For(version.Kind))
            throw PortalException.Invalid($"Template '{r.Template}' does not fit a {version.Kind} dataset; use '{Templates.For(version.Kind)}'.", "template");
        if (r.Epochs is < 1 or > 1000)
            throw PortalException.Invalid("Epochs must be between 1 and 1000.", "epochs");
        if (r.BatchSize is < 1 or > 65536)
            throw PortalException.Invalid("Batch size must be between 1 and 65536.", "batchSize");
        if (!(r.LearningRate > 0 && r.LearningRate <= 10))
            throw PortalException.Invalid("Learning rate must be greater than 0 and at most 10.", "learningRate");
        if (r.Optimizer is not ("adam" or "sgd"))
            throw PortalException.Invalid($"Optimizer '{r.Optimizer}' is unknown; use 'adam' or 'sgd'.", "optimizer");
        if (!(r.ValidationFraction is > 0 and <= 0.5))
            throw PortalException.Invalid("The validation fraction must be greater than 0 and at most 0.5.", "validationFraction");
        var hasTestFiles = DatasetIngest.ReadProfile(version).TestRows is > 0;
        if (!(r.TestFraction is >= 0 and <= 0.5) || (r.TestFraction == 0 && !hasTestFiles))
            throw PortalException.Invalid(hasTestFiles
                ? "The test fraction must be between 0 and 0.5 (0: use the dataset's own test files)."
                : "The test fraction must be greater than 0 and at most 0.5: this dataset has no test files of its own.", "testFraction");
        if (r.MaxTrainSamples is < 10)
            throw PortalException.Invalid("Max training samples, when set, must be at least 10.", "maxTrainSamples");
    }
}
