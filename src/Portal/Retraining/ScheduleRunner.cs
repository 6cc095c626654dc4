using Hangfire;
using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using ModelOps.Engine.Training;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Retraining;

/// <summary>
/// The two Hangfire jobs of a schedule, both on the schedules queue. <see cref="FireAsync"/> turns a
/// trigger into a queued training run (or a skipped or failed fire, with the reason);
/// <see cref="DecideAsync"/> runs once that run has ended: it registers the model and applies the gate,
/// scoring the Production version on the candidate's own test split so both figures are on the same
/// data. Both are safe to deliver twice: a fire is unique per delivering job, and a decided fire is left alone.
/// </summary>
public sealed class ScheduleRunner(
    PortalDb db, WriteGate gate, RunLauncher launcher, RegistryService registry, DataPaths paths, ILogger<ScheduleRunner> log)
{
    public static string Actor(Schedule s) => $"schedule:{s.Name}";

    /// <summary>Hangfire fills <paramref name="context"/> (the delivering job) and <paramref name="ct"/>.</summary>
    [AutomaticRetry(Attempts = 3)]
    public async Task FireAsync(int scheduleId, string trigger, string? detail, PerformContext? context, CancellationToken ct)
    {
        await FireNowAsync(scheduleId, trigger, detail, context?.BackgroundJob?.Id, ct);
    }

    /// <summary>The fire itself, for the job and for tests; returns the fire row.</summary>
    public async Task<ScheduleFire?> FireNowAsync(int scheduleId, string trigger, string? detail, string? jobId, CancellationToken ct)
    {
        var schedule = await db.Schedules.AsNoTracking().FirstOrDefaultAsync(s => s.Id == scheduleId, ct);
        if (schedule is null)
        {
            log.LogInformation("Fire of deleted schedule {ScheduleId} ignored", scheduleId);
            return null;
        }
        if (schedule.Paused && trigger != FireTriggers.Manual)
        {
            log.LogInformation("Schedule {Name} is paused: {Trigger} fire ignored", schedule.Name, trigger);
            return null;
        }

        ScheduleFire fire;
        await using (await gate.EnterAsync(db, ct))
        {
            if (jobId is not null && await db.ScheduleFires.FirstOrDefaultAsync(f => f.ScheduleId == scheduleId && f.JobId == jobId, ct) is { } delivered)
            {
                // A second delivery of the same job: the first one's fire stands (its run, if any, has its own job).
                fire = delivered;
                if (fire.RunId is not null || FireOutcomes.IsEnded(fire.Outcome)) return fire;
            }
            else
            {
                if (trigger == FireTriggers.Cron) detail ??= $"{schedule.Cron} {schedule.TimeZone}";
                fire = new ScheduleFire { ScheduleId = scheduleId, FiredAt = DateTime.UtcNow, Trigger = trigger, TriggerDetail = Cut(detail, 200), JobId = jobId };
                db.ScheduleFires.Add(fire);
                if (!schedule.AllowOverlap && await RunningFireAsync(scheduleId, ct) is { } busy)
                {
                    fire.Outcome = FireOutcomes.Skipped;
                    fire.DecidedAt = DateTime.UtcNow;
                    SetReason(fire, busy.RunId is { } busyRun
                        ? ErrorMessage.Of($"Fire {busy.Id} is still going (run {busyRun}); this schedule does not allow overlapping fires.")
                        : ErrorMessage.Of($"Fire {busy.Id} is still going; this schedule does not allow overlapping fires."));
                }
                await db.SaveChangesAsync(ct);
                if (fire.Outcome == FireOutcomes.Skipped)
                {
                    db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = Actor(schedule), Action = "schedule.fire.skipped", Subject = $"schedule:{schedule.Name}", Details = fire.Reason });
                    await db.SaveChangesAsync(ct);
                    log.LogInformation("Schedule {Name}: {Reason}", schedule.Name, fire.Reason);
                    return fire;
                }
            }
        }

        Run run;
        try
        {
            var request = await RequestAsync(schedule, fire, ct);
            run = await launcher.LaunchAsync(request, "schedule", ct, Actor(schedule));
        }
        catch (PortalException e) when (e.Error is not PortalError.TooLarge)
        {
            await EndAsync(fire.Id, schedule, FireOutcomes.Failed, ErrorMessage.Of($"The recipe cannot run: {FireReason.Joined(e.Problems)}"), ct);
            return await db.ScheduleFires.AsNoTracking().FirstAsync(f => f.Id == fire.Id, ct);
        }
        await using (await gate.EnterAsync(db, ct))
        {
            var tracked = await db.ScheduleFires.FirstAsync(f => f.Id == fire.Id, ct);
            tracked.RunId = run.Id;
            db.AuditEvents.Add(new AuditEvent
            {
                At = DateTime.UtcNow, Actor = Actor(schedule), Action = "schedule.fired", Subject = $"schedule:{schedule.Name}",
                Details = $"{trigger}{(detail is null ? "" : $" ({detail})")}: run {run.Id}",
            });
            await db.SaveChangesAsync(ct);
            fire = tracked;
        }
        log.LogInformation("Schedule {Name} fired ({Trigger}): run {RunId}", schedule.Name, trigger, run.Id);
        return fire;
    }

    /// <summary>
    /// A fire of this schedule whose run is still queued or training. One whose run has ended and only
    /// waits for its gate does not hold a new fire back: the new data would otherwise go untrained.
    /// </summary>
    private Task<ScheduleFire?> RunningFireAsync(int scheduleId, CancellationToken ct) =>
        (from f in db.ScheduleFires.AsNoTracking()
         join r in db.Runs.AsNoTracking() on f.RunId equals r.Id
         where f.ScheduleId == scheduleId && f.Outcome == FireOutcomes.Pending && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running)
         orderby f.Id
         select f).FirstOrDefaultAsync(ct);

    /// <summary>What the fire trains: the recipe resolved against today's dataset and registry.</summary>
    private async Task<NewRunRequest> RequestAsync(Schedule schedule, ScheduleFire fire, CancellationToken ct)
    {
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == schedule.DatasetId, ct)
            ?? throw PortalException.Invalid($"Dataset '{schedule.DatasetName}' no longer exists.", "dataset");
        var version = await RecipeVersions.DatasetVersionAsync(db, dataset.Id, schedule.DatasetVersion, ct)
            ?? throw PortalException.Invalid(RecipeVersions.NoDatasetVersion(dataset.Name, schedule.DatasetVersion), "dataset");
        ModelVersionRef? parent = null;
        if (schedule.FineTuneModel is { } model)
            parent = await RecipeVersions.FineTuneAsync(db, model, schedule.FineTuneVersion, ct)
                ?? throw PortalException.Invalid(RecipeVersions.NoFineTuneVersion(model, schedule.FineTuneVersion), "fineTuneModel");
        var options = ScheduleService.OptionsOf(schedule);
        return new NewRunRequest(version.Id, $"{schedule.Name} #{fire.Id} on {dataset.Name} v{version.Version}", $"schedule-fire:{fire.Id}", schedule.ExperimentId)
        {
            Options = options,
            ParentModel = parent,
            GivenOptions = ScheduleService.NamedOptions(options, parent is not null),
        };
    }

    /// <summary>
    /// A scheduled run ended: register its model and apply the gate. Nothing happens for a fire already
    /// decided or a run still going, so the job can be delivered any number of times.
    /// </summary>
    [AutomaticRetry(Attempts = 3)]
    public async Task DecideAsync(long fireId, CancellationToken ct)
    {
        var fire = await db.ScheduleFires.AsNoTracking().FirstOrDefaultAsync(f => f.Id == fireId, ct);
        if (fire is null || FireOutcomes.IsEnded(fire.Outcome) || fire.RunId is not { } runId) return;
        var schedule = await db.Schedules.AsNoTracking().FirstOrDefaultAsync(s => s.Id == fire.ScheduleId, ct);
        var run = await db.Runs.AsNoTracking().Include(r => r.DatasetVersion).FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (schedule is null || run is null || !run.Status.IsTerminal()) return;
        if (run.Status != RunStatus.Finished || !run.HasModel)
        {
            await EndAsync(fireId, schedule, FireOutcomes.Failed,
                run.Status == RunStatus.Cancelled
                    ? ErrorMessage.Of($"Run {run.Id} was cancelled.")
                    : ErrorMessage.Of($"Run {run.Id} failed: {ErrorMessage.Raw(run.Error ?? run.StatusMessage ?? "")}"), ct);
            return;
        }

        var actor = Actor(schedule);
        try
        {
            if (fire.Decision is null)
                fire = await PlanAsync(fire, schedule, run, actor, ct);
            // The plan is saved: from here a re-delivery finishes this decision (a promotion is idempotent).
            var stage = fire.Decision switch
            {
                FireOutcomes.Promoted => ModelStages.Production,
                FireOutcomes.Staged => ModelStages.Staging,
                _ => null,
            };
            if (stage is not null)
                await registry.PromoteAsync(schedule.TargetModel, fire.ModelVersion!.Value, stage, ct, actor, fire.Reason);
        }
        catch (PortalException e)
        {
            // A fire left pending would hold every later fire back as "overlapping": it ends, with the reason.
            await EndAsync(fireId, schedule, FireOutcomes.Failed, ErrorMessage.Of($"Run {run.Id} finished, but its model could not be registered or promoted: {e.Text}"), ct);
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or Engine.EngineException)
        {
            await EndAsync(fireId, schedule, FireOutcomes.Failed, ErrorMessage.Of($"Run {run.Id} finished, but its model could not be registered or promoted: {ErrorMessage.Raw(e.Message)}"), ct);
            return;
        }

        string outcome;
        await using (await gate.EnterAsync(db, ct))
        {
            var tracked = await db.ScheduleFires.FirstAsync(f => f.Id == fireId, ct);
            if (FireOutcomes.IsEnded(tracked.Outcome)) return;
            outcome = tracked.Outcome = tracked.Decision!;
            tracked.DecidedAt = DateTime.UtcNow;
            db.AuditEvents.Add(new AuditEvent
            {
                At = DateTime.UtcNow, Actor = actor, Action = "schedule.gate", Subject = $"model:{schedule.TargetModel}:v{tracked.ModelVersion}",
                Details = $"{outcome}: {tracked.Reason}",
            });
            Notifications.PortalEvents.Raise(db, schedule.TeamId, Notifications.EventTypes.ScheduleGateDecided, $"schedule:{schedule.Name}", actor,
                new { scheduleId = schedule.Id, schedule = schedule.Name, fireId, runId = run.Id, model = schedule.TargetModel, version = tracked.ModelVersion,
                    outcome, reason = tracked.Reason, metric = tracked.Metric, candidate = tracked.CandidateValue, production = tracked.ProductionValue });
            await db.SaveChangesAsync(ct);
            fire = tracked;
        }
        log.LogInformation("Schedule {Name}, run {RunId}: {Outcome} ({Reason})", schedule.Name, run.Id, outcome, fire.Reason);
    }

    /// <summary>
    /// Registers the run's model (or finds the version a first delivery registered), scores Production on
    /// the candidate's test split, applies the gate, and saves the decision with both figures on the fire.
    /// </summary>
    private async Task<ScheduleFire> PlanAsync(ScheduleFire fire, Schedule schedule, Run run, string actor, CancellationToken ct)
    {
        var metric = schedule.GateMetric;
        var registered = await db.ModelVersions.AsNoTracking()
            .Where(v => v.RegisteredModel!.Name == schedule.TargetModel && v.RunId == run.Id).MaxAsync(v => (int?)v.Version, ct)
            ?? (await registry.RegisterAsync(run.Id, schedule.TargetModel, allowDuplicate: false, ct, actor)).Version;
        var candidate = MetricOf(RunEvaluation.From(run), metric);
        var production = await db.ModelVersions.AsNoTracking()
            .Where(v => v.RegisteredModel!.Name == schedule.TargetModel && v.Stage == ModelStages.Production && v.Version != registered)
            .FirstOrDefaultAsync(ct);
        double? productionValue = null;
        string? unscored = null;
        if (production is not null)
        {
            try
            {
                var report = Trainer.EvaluatePackage(paths.Resolve(production.ArtifactPath), RunOptions.Read(run), FilesOf(run.DatasetVersion!));
                productionValue = MetricOf(report, metric);
            }
            catch (Exception e) when (e is Engine.Data.DatasetFormatException or InvalidDataException or IOException or Engine.EngineException or ArgumentException)
            {
                unscored = e.Message;
            }
        }
        var (decision, reason) = Gate(schedule, registered, candidate, production?.Version, productionValue, unscored);
        await using (await gate.EnterAsync(db, ct))
        {
            var tracked = await db.ScheduleFires.FirstAsync(f => f.Id == fire.Id, ct);
            if (tracked.Decision is not null) return tracked;
            tracked.Decision = decision;
            SetReason(tracked, reason);
            tracked.Metric = metric;
            tracked.CandidateValue = candidate;
            tracked.ProductionValue = productionValue;
            tracked.ProductionVersion = production?.Version;
            tracked.ModelVersion = registered;
            await db.SaveChangesAsync(ct);
            return tracked;
        }
    }

    /// <summary>
    /// The gate. Promote: Production is replaced only when the candidate is better by at least the margin
    /// (and strictly better) on the same test data, or when there is no Production version yet. Stage and
    /// register never touch Production; their reason still carries both figures.
    /// </summary>
    public static (string Outcome, ErrorMessage Reason) Gate(Schedule s, int version, double? candidate, int? productionVersion, double? production, string? unscored)
    {
        var metric = s.GateMetric;
        string F(double? v) => v is { } x ? x.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) : "n/a";
        var margin = F(s.GateMargin);
        ErrorMessage comparison;
        bool? better = null;
        if (candidate is null)
            comparison = ErrorMessage.Of($"v{version} has no {metric}");
        else if (productionVersion is null)
            comparison = ErrorMessage.Of($"{metric} {F(candidate)}; there is no Production version to compare with");
        else if (production is null)
            comparison = ErrorMessage.Of($"{metric} {F(candidate)}; Production v{productionVersion} cannot be scored on this test data ({ErrorMessage.Raw(unscored ?? "")})");
        else
        {
            var gain = GateMetrics.Lower(metric) ? production.Value - candidate.Value : candidate.Value - production.Value;
            better = gain > 0 && gain >= s.GateMargin - 1e-12;
            comparison = ErrorMessage.Of($"{metric} {F(candidate)} against Production v{productionVersion}'s {F(production)} on the same test data (a gain of {F(gain)}; the gate asks for {margin})");
        }
        return s.GateMode switch
        {
            GateModes.Stage => (FireOutcomes.Staged, ErrorMessage.Of($"v{version} staged for approval: {comparison}.")),
            GateModes.Register => (FireOutcomes.Registered, ErrorMessage.Of($"v{version} registered: {comparison}.")),
            _ when candidate is not null && productionVersion is null => (FireOutcomes.Promoted, ErrorMessage.Of($"v{version} promoted: {comparison}.")),
            _ when better == true => (FireOutcomes.Promoted, ErrorMessage.Of($"v{version} promoted to Production: {comparison}.")),
            _ when productionVersion is null => (FireOutcomes.Registered, ErrorMessage.Of($"v{version} registered only: {comparison}.")),
            _ => (FireOutcomes.Kept, ErrorMessage.Of($"Production v{productionVersion} kept; v{version} registered only: {comparison}.")),
        };
    }

    /// <summary>The reason in English (API, audit) and as a sentence the page translates.</summary>
    private static void SetReason(ScheduleFire fire, ErrorMessage reason)
    {
        fire.Reason = Cut(reason.English, 2000);
        fire.ReasonJson = FireReason.Serialize(reason);
    }

    /// <summary>A gate metric from the run's stored evaluation (null when the run does not have it).</summary>
    public static double? MetricOf(RunEvaluation? e, string metric) => e is null ? null : Finite(metric switch
    {
        "accuracy" => e.Accuracy,
        "f1_macro" => e.F1Macro,
        "f1_weighted" => e.F1Weighted,
        "roc_auc" => e.RocAuc,
        "r2" => e.R2,
        "mse" => e.Mse,
        "mae" => e.Mae,
        _ => null,
    });

    /// <summary>The same figure from an engine report (the Production model scored here), read as a run's stored evaluation is.</summary>
    public static double? MetricOf(EvaluationReport r, string metric) => MetricOf(new RunEvaluation(
        r.Accuracy, r.PrecisionMacro, r.RecallMacro, r.F1Macro, r.ConfusionMatrix, r.ClassNames, r.Samples, r.Task,
        r.PrecisionWeighted, r.RecallWeighted, r.F1Weighted, r.RocAuc, r.Mse, r.Mae, r.R2), metric);

    private static double? Finite(double? v) => v is { } x && double.IsFinite(x) ? x : null;

    /// <summary>The dataset version's files in the data folder, as the engine reads them.</summary>
    public DatasetFiles FilesOf(DatasetVersion version)
    {
        var folder = paths.Resolve(version.StoragePath);
        string? File(string role) => System.IO.File.Exists(Path.Combine(folder, role)) ? Path.Combine(folder, role) : null;
        var profile = DatasetIngest.ReadProfile(version);
        return new DatasetFiles
        {
            Kind = version.Kind,
            CsvPath = File(DatasetFileRoles.Csv),
            LabelColumn = version.LabelColumn,
            TextColumn = profile.TextColumn,
            TrainImagesPath = File(DatasetFileRoles.TrainImages),
            TrainLabelsPath = File(DatasetFileRoles.TrainLabels),
            TestImagesPath = File(DatasetFileRoles.TestImages),
            TestLabelsPath = File(DatasetFileRoles.TestLabels),
            ClassNames = profile.ClassNames?.ToArray(),
        };
    }

    private async Task EndAsync(long fireId, Schedule schedule, string outcome, ErrorMessage reason, CancellationToken ct)
    {
        await using (await gate.EnterAsync(db, ct))
        {
            var fire = await db.ScheduleFires.FirstAsync(f => f.Id == fireId, ct);
            if (FireOutcomes.IsEnded(fire.Outcome)) return;
            fire.Outcome = outcome;
            SetReason(fire, reason);
            fire.DecidedAt = DateTime.UtcNow;
            db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = Actor(schedule), Action = $"schedule.fire.{outcome}", Subject = $"schedule:{schedule.Name}", Details = fire.Reason });
            await db.SaveChangesAsync(ct);
        }
        log.LogWarning("Schedule {Name}: fire {FireId} {Outcome}: {Reason}", schedule.Name, fireId, outcome, reason.English);
    }

    private static string? Cut(string? s, int max) => s is null ? null : s.Length > max ? s[..max] : s;
}
