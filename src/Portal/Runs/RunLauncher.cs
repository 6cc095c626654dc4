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
/// and, when given, override the same option. <see cref="ParentModel"/> fine-tunes a registered version:
/// the network (template, shape, encoding) is then the parent's, the task defaults to the parent's, and
/// the learning rate to <see cref="FineTuning.DefaultLearningRate"/> unless the request sets one.
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
    /// <summary>The registered model version to fine-tune; null trains from scratch.</summary>
    public ModelVersionRef? ParentModel { get; init; }

    /// <summary>
    /// The options the caller chose (camelCase names, flat fields included); null: every option was chosen
    /// (the form). Only a fine-tune asks, to tell "no rate given" from "the default rate given".
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlySet<string>? GivenOptions { get; init; }

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

    /// <summary>Whether the caller chose this option (camelCase name).</summary>
    public bool Gave(string option) => GivenOptions is null || GivenOptions.Contains(option);

    /// <summary>The options and flat fields a JSON request body names, for <see cref="GivenOptions"/>.</summary>
    public static IReadOnlySet<string> NamedOptions(System.Text.Json.JsonElement body)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (body.ValueKind != System.Text.Json.JsonValueKind.Object) return names;
        string[] flat = ["template", "epochs", "batchSize", "learningRate", "optimizer", "seed", "validationFraction", "testFraction", "maxTrainSamples"];
        foreach (var p in body.EnumerateObject())
        {
            if (flat.Contains(p.Name, StringComparer.OrdinalIgnoreCase) && p.Value.ValueKind != System.Text.Json.JsonValueKind.Null) names.Add(p.Name);
            if (string.Equals(p.Name, "options", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == System.Text.Json.JsonValueKind.Object)
                foreach (var o in p.Value.EnumerateObject()) names.Add(o.Name);
        }
        return names;
    }
}

/// <summary>Which templates and tasks fit which kind of dataset.</summary>
public static class Templates
{
    public const string Mlp = ModelTemplates.Mlp;
    public const string Cnn = ModelTemplates.Cnn;
    public const string TextLstm = ModelTemplates.TextLstm;
    public const string TextCnn = ModelTemplates.TextCnn;
    public const string TextTransformer = ModelTemplates.TextTransformer;

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
public sealed class RunLauncher(PortalDb db, RunJobs jobs, WorkerProcesses workers, RunEvents events, CurrentUser user, DataPaths paths, ILogger<RunLauncher> log,
    IServiceProvider services)
{
    /// <summary>Creates the run and its job; <paramref name="actor"/> names who launched it when that is not the caller (a schedule).</summary>
    public async Task<Run> LaunchAsync(NewRunRequest request, string source, CancellationToken ct, string? actor = null)
    {
        var key = string.IsNullOrWhiteSpace(request.IdempotencyKey) ? null : request.IdempotencyKey.Trim();
        if (key is { Length: > 100 })
            throw PortalException.Invalid($"The idempotency key is longer than 100 characters.", "idempotencyKey");
        if (key is not null && await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.IdempotencyKey == key, ct) is { } existing)
        {
            // A replay of a request whose enqueue failed after the save must still end with a job.
            if (existing.Status == RunStatus.Queued) await jobs.EnsureJobAsync(db, existing.Id, ct);
            return existing;
        }

        var (version, options, parent) = await PrepareAsync(request, ct);
        var experimentId = request.ExperimentId ?? Tracking.Experiment.DefaultId;

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
            ParentModelVersionId = parent?.Version.Id,
            Status = RunStatus.Queued,
            Source = source,
            IdempotencyKey = key,
            CreatedAt = DateTime.UtcNow,
            CreatedBy = actor ?? user.Name,
            StatusMessage = "waiting for a free worker slot",
        };
        RunOptions.Write(run, options);
        run.Params.AddRange(HyperParameterParams(run.DatasetVersionId, options, parent?.Ref));
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
        await jobs.EnsureJobAsync(db, run.Id, ct);
        log.LogInformation("Queued run {RunId} ({Name}) on the {Queue} queue", run.Id, run.Name, run.Queue);
        events.Publish(run);
        return run;
    }

    /// <summary>What a launch would train, checked: the dataset version, the resolved options and the parent to fine-tune.</summary>
    public sealed record Prepared(DatasetVersion Version, TrainingOptions Options, ParentModel? Parent);

    /// <summary>
    /// Every check a launch makes, without creating anything: a schedule runs it when it is saved, so a
    /// recipe that could not launch is refused then, not at its first fire.
    /// </summary>
    public async Task<Prepared> PrepareAsync(NewRunRequest request, CancellationToken ct)
    {
        var version = await db.DatasetVersions.AsNoTracking().Include(v => v.Dataset)
            .FirstOrDefaultAsync(v => v.Id == request.DatasetVersionId, ct)
            ?? throw PortalException.NotFound($"Dataset version {request.DatasetVersionId}");
        var options = request.ResolveOptions();
        var parent = request.ParentModel is { } wanted ? await FindParentAsync(wanted, ct) : null;
        if (parent is { } p)
        {
            options = options.WithNetworkOf(p.Schema);
            if (!request.Gave("task")) options = options with { Task = p.Schema.Task };
            if (!request.Gave("learningRate")) options = options with { LearningRate = FineTuning.DefaultLearningRate };
        }
        var problems = Problems(options, version).ToList();
        if (parent is { } q)
        {
            if (request.Gave("template") && request.ResolveOptions().Template != q.Schema.Template)
                problems.Add(ErrorMessage.Of($"A fine-tuned run keeps the template of model '{q.Ref.Name}' v{q.Ref.Version} ('{q.Schema.Template}'); leave the template out or send '{q.Schema.Template}'."));
            problems.AddRange(FineTuning.Problems(q.Schema, q.Ref, options, version, DatasetIngest.ReadProfile(version)));
        }
        else if (options.TrainableLayers > 0)
            problems.Add(ErrorMessage.Of($"TrainableLayers applies to fine-tuning only: name the parent model to fine-tune, or send 0."));
        if (problems.Count > 0)
            throw PortalException.InvalidAll(problems.DistinctBy(p => p.English).ToList());
        var experimentId = request.ExperimentId ?? Tracking.Experiment.DefaultId;
        var team = await db.Experiments.Where(e => e.Id == experimentId && e.DeletedAt == null).Select(e => (int?)e.TeamId).FirstOrDefaultAsync(ct)
            ?? throw PortalException.NotFound($"Experiment {experimentId}");
        // A signed-in caller trains in an experiment of a team they are an Editor of, on that team's data;
        // the portal's own callers (a schedule's fire) have no principal and were checked when the schedule was saved.
        if (user.Principal is not null)
        {
            var access = services.GetRequiredService<Identity.Access>();
            await access.RequireAsync(team, Identity.TeamRole.Editor, $"Experiment {experimentId}", ct);
            // Training reads the data raw (sensitive columns too), which a Viewer of its team may not.
            await access.RequireAsync(version.Dataset!.TeamId, Identity.TeamRole.Editor, $"Dataset version {version.Id}", ct);
            if (parent is { } parentModel) await access.RequireAsync(parentModel.Version.RegisteredModel!.TeamId, Identity.TeamRole.Viewer, $"Model '{parentModel.Ref.Name}'", ct);
        }
        return new Prepared(version, options, parent);
    }

    public sealed record ParentModel(ModelVersionRef Ref, Registry.ModelVersion Version, ModelSchema Schema);

    /// <summary>The version to fine-tune and its schema, read from its immutable package.</summary>
    private async Task<ParentModel> FindParentAsync(ModelVersionRef wanted, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(wanted.Name) || wanted.Version < 1)
            throw PortalException.Invalid($"parentModel needs the registered model's name and a version number from 1.", "parentModel");
        var found = await db.ModelVersions.AsNoTracking().Include(v => v.RegisteredModel)
            .FirstOrDefaultAsync(v => v.RegisteredModel!.Name == wanted.Name && v.Version == wanted.Version, ct)
            ?? throw PortalException.NotFound($"Version {wanted.Version} of model '{wanted.Name}'");
        try
        {
            var (schema, _) = ModelPackage.Read(paths.Resolve(found.ArtifactPath));
            return new ParentModel(new ModelVersionRef(found.RegisteredModel!.Name, found.Version), found, schema);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new PortalException(PortalError.Conflict, $"The package of model '{wanted.Name}' v{wanted.Version} cannot be read: {e.Message}");
        }
    }

    public async Task CancelAsync(int runId, CancellationToken ct)
    {
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, ct) ?? throw PortalException.NotFound($"Run {runId}");
        if (run.Status.IsTerminal())
            return;
        // A client's run has no worker to stop: a cancel would stay "cancelling" for ever.
        if (run.Kind == RunKind.Tracked)
            throw new PortalException(PortalError.Conflict,
                $"Run {runId} is reported by an API client, not scheduled by the portal, so there is nothing to cancel; end it instead (killed or finished).", "status");
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
            await db.Entry(run).ReloadAsync(ct);
            jobs.Remove(run);
        }
        else
        {
            await db.Entry(run).ReloadAsync(ct);
            if (run.Status.IsTerminal()) return;
            run.CancelRequested = true;
            run.StatusMessage = "cancelling";
            await db.SaveChangesAsync(ct);
            // The worker learns it from its next heartbeat; deleting the job also fires the job's token.
            workers.RequestCancel(runId);
            jobs.Remove(run);
        }
        events.Publish(run);
    }

    /// <summary>A launched run's settings as params (the options' own flat form), so search and the runs table treat every run alike.</summary>
    public static IEnumerable<Tracking.RunParam> HyperParameterParams(int? datasetVersionId, TrainingOptions options, ModelVersionRef? parent = null)
    {
        var pairs = options.ToParams().Select(kv => (Key: kv.Key, Value: kv.Value)).ToList();
        static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (datasetVersionId is { } dv) pairs.Add(("dataset_version_id", Text(dv)));
        if (parent is not null)
        {
            pairs.Add(("parent_model", parent.Name));
            pairs.Add(("parent_model_version", Text(parent.Version)));
        }
        if (options.MaxTrainSamples is { } max) pairs.Add(("max_train_samples", Text(max)));
        pairs.Add(("device", options.Device));
        return pairs.Select(p => new Tracking.RunParam { Key = p.Key, Value = p.Value, NumValue = Tracking.TrackingRules.Number(p.Value) });
    }

    /// <summary>
    /// Every problem with launching these options on this dataset version: the options' own rules
    /// (<see cref="TrainingOptions.Validate"/>) and what the dataset adds (template and task fit its kind,
    /// a test split when it has no test files). Empty when the run may be created.
    /// </summary>
    public static IReadOnlyList<ErrorMessage> Problems(TrainingOptions options, DatasetVersion version)
    {
        var problems = options.Validate().Select(ErrorMessage.Raw).ToList();
        var fitting = Templates.Fitting(version.Kind);
        if (ModelTemplates.Names.Contains(options.Template) && !fitting.Contains(options.Template))
            problems.Add(ErrorMessage.Of($"Template '{options.Template}' does not fit a {version.Kind} dataset; use {string.Join(" or ", fitting.Select(t => $"'{t}'"))}."));
        var profile = DatasetIngest.ReadProfile(version);
        if (options.Task == TrainingTasks.Regression && version.Kind == DatasetKinds.Csv && !LabelIsNumeric(profile))
            problems.Add(ErrorMessage.Of($"Task 'regression' needs a numeric label; the label column '{profile.LabelColumn}' holds text."));
        var hasTestFiles = profile.TestRows is > 0;
        if (options.TestFraction == 0 && !hasTestFiles)
            problems.Add(ErrorMessage.Of($"TestFraction must be greater than 0: this dataset has no test files of its own."));
        return problems;
    }

    private static bool LabelIsNumeric(DatasetProfile profile) =>
        profile.ClassNames is { Count: > 0 } names && names.All(n => double.TryParse(n, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
}
