using System.Text.Json;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Engine.Training;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Retraining;

/// <summary>
/// A schedule as the API and the Schedules form send it. <see cref="Dataset"/> names the dataset (or
/// <see cref="DatasetId"/> gives its id); <see cref="Options"/> are the run's training options, whose
/// template is ignored when <see cref="FineTuneModel"/> names a model to fine-tune.
/// </summary>
public sealed record ScheduleRequest
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public int? DatasetId { get; init; }
    public string? Dataset { get; init; }
    public int? DatasetVersion { get; init; }
    public string? FineTuneModel { get; init; }
    public int? FineTuneVersion { get; init; }
    public TrainingOptions? Options { get; init; }
    public string? TargetModel { get; init; }
    public int? ExperimentId { get; init; }
    public string? Cron { get; init; }
    public string? TimeZone { get; init; }
    public bool OnNewDatasetVersion { get; init; }
    public bool AllowOverlap { get; init; }
    public bool Paused { get; init; }
    public string? GateMode { get; init; }
    public string? GateMetric { get; init; }
    public double? GateMargin { get; init; }

    public static ScheduleRequest From(Schedule s) => new()
    {
        Name = s.Name, Description = s.Description, DatasetId = s.DatasetId, DatasetVersion = s.DatasetVersion,
        FineTuneModel = s.FineTuneModel, FineTuneVersion = s.FineTuneVersion, Options = ScheduleService.OptionsOf(s),
        TargetModel = s.TargetModel, ExperimentId = s.ExperimentId, Cron = s.Cron, TimeZone = s.TimeZone,
        OnNewDatasetVersion = s.OnNewDatasetVersion, AllowOverlap = s.AllowOverlap, Paused = s.Paused,
        GateMode = s.GateMode, GateMetric = s.GateMetric, GateMargin = s.GateMargin,
    };
}

/// <summary>A schedule with what the Schedules page and the API show beside it.</summary>
public sealed record ScheduleView(
    Schedule Schedule, IReadOnlyList<DateTimeOffset> NextFires, ScheduleFire? LastFire, int Fires, int Runs, ComputeView Compute,
    bool DatasetExists)
{
    /// <summary>A fire that failed is the schedule's state until the next fire succeeds: the page shows it in red.</summary>
    public string? Problem => ProblemIn(System.Globalization.CultureInfo.GetCultureInfo(PortalCultures.English));

    /// <summary>The problem in a reader's language (the Schedules page).</summary>
    public string? ProblemIn(System.Globalization.CultureInfo culture) =>
        !DatasetExists ? ErrorMessage.Of($"Dataset '{Schedule.DatasetName}' no longer exists.").Localized(culture)
        : LastFire is { Outcome: FireOutcomes.Failed } f ? FireReason.Localized(f, culture) : null;
}

/// <summary>
/// Creates, edits, pauses and fires retraining schedules (docs/schedules.md). A schedule's cron trigger
/// is a Hangfire recurring job <c>schedule-{id}</c> on the schedules queue; its dataset trigger is a
/// fire job enqueued when a version of its dataset is registered. A fire job runs
/// <see cref="ScheduleRunner.FireAsync"/>; the recurring job is removed while the schedule is paused.
/// </summary>
public sealed class ScheduleService(
    PortalDb db, WriteGate gate, RunLauncher launcher, JobsHost jobs, CurrentUser user, IOptions<CostOptions> prices, ILogger<ScheduleService> log,
    IServiceProvider services)
{
    public static string RecurringId(int scheduleId) => $"schedule-{scheduleId}";

    public static TrainingOptions OptionsOf(Schedule s) =>
        JsonSerializer.Deserialize<TrainingOptions>(s.OptionsJson, JsonSerializerOptions.Web) ?? new TrainingOptions();

    public async Task<Schedule> CreateAsync(ScheduleRequest request, CancellationToken ct)
    {
        var schedule = new Schedule
        {
            Name = "", DatasetName = "", OptionsJson = "{}", TargetModel = "",
            CreatedAt = DateTime.UtcNow, CreatedBy = user.Name, UpdatedBy = user.Name,
        };
        await ApplyAsync(schedule, request, ct);
        await using (await gate.EnterAsync(db, ct))
        {
            if (await db.Schedules.AnyAsync(s => s.Name == schedule.Name, ct))
                throw new PortalException(PortalError.Conflict, $"A schedule named '{schedule.Name}' exists already.", "name");
            schedule.UpdatedAt = schedule.CreatedAt;
            db.Schedules.Add(schedule);
            db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "schedule.created", Subject = $"schedule:{schedule.Name}", TeamId = schedule.TeamId, Details = Describe(schedule) });
            await db.SaveChangesAsync(ct);
        }
        SyncRecurring(schedule);
        log.LogInformation("Schedule {Name} created: {Recipe}", schedule.Name, Describe(schedule));
        return schedule;
    }

    public async Task<Schedule> UpdateAsync(int id, ScheduleRequest request, CancellationToken ct)
    {
        var schedule = await db.Schedules.FirstOrDefaultAsync(s => s.Id == id, ct) ?? throw PortalException.NotFound($"Schedule {id}");
        var before = Describe(schedule);
        await ApplyAsync(schedule, request, ct);
        await using (await gate.EnterAsync(db, ct))
        {
            if (await db.Schedules.AnyAsync(s => s.Name == schedule.Name && s.Id != id, ct))
                throw new PortalException(PortalError.Conflict, $"A schedule named '{schedule.Name}' exists already.", "name");
            schedule.UpdatedAt = DateTime.UtcNow;
            schedule.UpdatedBy = user.Name;
            db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "schedule.updated", Subject = $"schedule:{schedule.Name}", Details = $"{before} => {Describe(schedule)}", Before = before, After = Describe(schedule) });
            await db.SaveChangesAsync(ct);
        }
        SyncRecurring(schedule);
        return schedule;
    }

    public async Task<Schedule> SetPausedAsync(int id, bool paused, CancellationToken ct)
    {
        var schedule = await db.Schedules.FirstOrDefaultAsync(s => s.Id == id, ct) ?? throw PortalException.NotFound($"Schedule {id}");
        if (schedule.Paused == paused) return schedule;
        schedule.Paused = paused;
        schedule.UpdatedAt = DateTime.UtcNow;
        schedule.UpdatedBy = user.Name;
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = paused ? "schedule.paused" : "schedule.resumed", Subject = $"schedule:{schedule.Name}" });
        await db.SaveChangesAsync(ct);
        // Resuming adds the recurring job afresh: its next fire is the next tick from now, not the ticks missed while paused.
        SyncRecurring(schedule);
        return schedule;
    }

    public async Task DeleteAsync(int id, CancellationToken ct)
    {
        var schedule = await db.Schedules.FirstOrDefaultAsync(s => s.Id == id, ct) ?? throw PortalException.NotFound($"Schedule {id}");
        jobs.Recurring.RemoveIfExists(RecurringId(id));
        db.Schedules.Remove(schedule);
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "schedule.deleted", Subject = $"schedule:{schedule.Name}" });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Fires the schedule now, paused or not, through the same job a cron tick would run; returns that job's id.</summary>
    public async Task<string> RunNowAsync(int id, CancellationToken ct)
    {
        var schedule = await db.Schedules.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct) ?? throw PortalException.NotFound($"Schedule {id}");
        var by = user.Name;
        return EnqueueFire(schedule.Id, FireTriggers.Manual, $"by {by}");
    }

    public string EnqueueFire(int scheduleId, string trigger, string? detail) =>
        // The queue is the job's own, so Hangfire's retries of it go back to the schedules queue too.
        jobs.Client.Enqueue<ScheduleRunner>(SlotQueues.Schedules, r => r.FireAsync(scheduleId, trigger, detail, null, CancellationToken.None));

    /// <summary>
    /// A version of a dataset was registered: every active schedule that retrains on new versions of it
    /// (and is not pinned to one version) fires.
    /// </summary>
    public async Task DatasetVersionAddedAsync(int datasetId, int version, CancellationToken ct)
    {
        var ids = await db.Schedules.AsNoTracking()
            .Where(s => s.DatasetId == datasetId && s.OnNewDatasetVersion && !s.Paused && s.DatasetVersion == null)
            .Select(s => s.Id).ToListAsync(ct);
        foreach (var id in ids)
        {
            EnqueueFire(id, FireTriggers.DatasetVersion, $"dataset v{version}");
            log.LogInformation("Dataset {DatasetId} v{Version} fires schedule {ScheduleId}", datasetId, version, id);
        }
    }

    /// <summary>The schedules of <paramref name="teams"/> (null: all, for the portal's own callers).</summary>
    public async Task<IReadOnlyList<ScheduleView>> ListAsync(CancellationToken ct, IReadOnlyCollection<int>? teams = null)
    {
        var schedules = await db.Schedules.AsNoTracking().Where(s => teams == null || teams.Contains(s.TeamId)).OrderBy(s => s.Name).ToListAsync(ct);
        return await ViewsAsync(schedules, ct);
    }

    public async Task<ScheduleView> GetAsync(int id, CancellationToken ct)
    {
        var schedule = await db.Schedules.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct) ?? throw PortalException.NotFound($"Schedule {id}");
        return (await ViewsAsync([schedule], ct))[0];
    }

    public async Task<Schedule?> FindByNameAsync(string name, CancellationToken ct) =>
        await db.Schedules.AsNoTracking().FirstOrDefaultAsync(s => s.Name == name, ct);

    /// <summary>The schedule's fires, newest first, each with its run's status.</summary>
    public async Task<IReadOnlyList<FireView>> FiresAsync(int id, int limit, CancellationToken ct)
    {
        if (!await db.Schedules.AnyAsync(s => s.Id == id, ct)) throw PortalException.NotFound($"Schedule {id}");
        var rows = await (from f in db.ScheduleFires.AsNoTracking().Where(f => f.ScheduleId == id)
                          join r in db.Runs.AsNoTracking() on f.RunId equals r.Id into runs
                          from r in runs.DefaultIfEmpty()
                          orderby f.Id descending
                          select new { Fire = f, Status = (RunStatus?)r.Status, r.GpuSeconds, r.CpuCoreSeconds })
            .Take(Math.Clamp(limit, 1, 500)).ToListAsync(ct);
        return rows.Select(x => new FireView(x.Fire, x.Status, RunCompute.View(x.GpuSeconds, x.CpuCoreSeconds, prices.Value))).ToList();
    }

    /// <summary>
    /// The schedules with their last fire, fire count, runs and summed compute: four queries for the whole
    /// list, not four per schedule (the page re-reads it every 2 s while a fire is pending).
    /// </summary>
    private async Task<IReadOnlyList<ScheduleView>> ViewsAsync(IReadOnlyList<Schedule> schedules, CancellationToken ct)
    {
        var ids = schedules.Select(s => s.Id).ToList();
        var fires = db.ScheduleFires.AsNoTracking().Where(f => ids.Contains(f.ScheduleId));
        var counts = await fires.GroupBy(f => f.ScheduleId)
            .Select(g => new { ScheduleId = g.Key, Fires = g.Count(), LastId = g.Max(f => f.Id) })
            .ToDictionaryAsync(x => x.ScheduleId, ct);
        var lastIds = counts.Values.Select(c => c.LastId).ToList();
        var last = await fires.Where(f => lastIds.Contains(f.Id)).ToDictionaryAsync(f => f.ScheduleId, ct);
        var totals = await (from f in fires
                            join r in db.Runs.AsNoTracking() on f.RunId equals r.Id
                            group r by f.ScheduleId into g
                            select new { ScheduleId = g.Key, Runs = g.Count(), Gpu = g.Sum(r => r.GpuSeconds ?? 0), Cpu = g.Sum(r => r.CpuCoreSeconds ?? 0) })
            .ToDictionaryAsync(x => x.ScheduleId, ct);
        var datasetIds = schedules.Select(s => s.DatasetId).Distinct().ToList();
        var datasets = (await db.Datasets.AsNoTracking().Where(d => datasetIds.Contains(d.Id)).Select(d => d.Id).ToListAsync(ct)).ToHashSet();
        var now = DateTimeOffset.UtcNow;
        return schedules.Select(s =>
        {
            var total = totals.GetValueOrDefault(s.Id);
            return new ScheduleView(s, s.Paused ? [] : NextFires(s.Cron, s.TimeZone, now, 3), last.GetValueOrDefault(s.Id),
                counts.GetValueOrDefault(s.Id)?.Fires ?? 0, total?.Runs ?? 0,
                RunCompute.Sum(total?.Gpu ?? 0, total?.Cpu ?? 0, prices.Value), datasets.Contains(s.DatasetId));
        }).ToList();
    }

    /// <summary>The next <paramref name="count"/> cron ticks after <paramref name="from"/> in the schedule's time zone; none without a cron expression.</summary>
    public static IReadOnlyList<DateTimeOffset> NextFires(string? cron, string timeZone, DateTimeOffset from, int count)
    {
        if (string.IsNullOrWhiteSpace(cron) || ParseCron(cron) is not { } expression || FindTimeZone(timeZone) is not { } zone) return [];
        return expression.GetOccurrences(from, from.AddYears(5), zone, fromInclusive: false).Take(count).ToList();
    }

    /// <summary>Cron as Hangfire reads it: five fields, or six with seconds first.</summary>
    public static Cronos.CronExpression? ParseCron(string cron)
    {
        var trimmed = cron.Trim();
        var fields = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        try
        {
            return Cronos.CronExpression.Parse(trimmed, fields == 6 ? Cronos.CronFormat.IncludeSeconds : Cronos.CronFormat.Standard);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // CronFormatException, and the others Cronos throws for input it cannot take (an 'H' without a seed).
            return null;
        }
    }

    public static TimeZoneInfo? FindTimeZone(string? id) =>
        !string.IsNullOrWhiteSpace(id) && TimeZoneInfo.TryFindSystemTimeZoneById(id.Trim(), out var zone) ? zone : null;

    /// <summary>The recurring job follows the schedule: present with its cron and time zone while it is active, absent otherwise.</summary>
    public void SyncRecurring(Schedule schedule)
    {
        var id = RecurringId(schedule.Id);
        if (schedule.Paused || string.IsNullOrWhiteSpace(schedule.Cron))
        {
            jobs.Recurring.RemoveIfExists(id);
            return;
        }
        var scheduleId = schedule.Id;
        jobs.Recurring.AddOrUpdate<ScheduleRunner>(id, SlotQueues.Schedules,
            r => r.FireAsync(scheduleId, FireTriggers.Cron, null, null, CancellationToken.None),
            schedule.Cron.Trim(),
            new RecurringJobOptions { TimeZone = FindTimeZone(schedule.TimeZone) ?? TimeZoneInfo.Utc, MisfireHandling = MisfireHandlingMode.Relaxed });
    }

    /// <summary>
    /// At start-up: every active cron schedule has its recurring job and no other schedule job is left. A
    /// job whose cron and time zone are unchanged is left as it is, so the tick missed while the portal was
    /// down is still due and fires once (Hangfire's relaxed misfire handling), not once per missed tick.
    /// </summary>
    public async Task SyncAllAsync(CancellationToken ct)
    {
        var schedules = await db.Schedules.AsNoTracking().ToListAsync(ct);
        using var connection = jobs.Storage.GetConnection();
        var existing = Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection)
            .Where(j => j.Id.StartsWith("schedule-", StringComparison.Ordinal)).ToDictionary(j => j.Id);
        foreach (var s in schedules)
        {
            var id = RecurringId(s.Id);
            var active = !s.Paused && !string.IsNullOrWhiteSpace(s.Cron);
            var zone = FindTimeZone(s.TimeZone) ?? TimeZoneInfo.Utc;
            if (active && existing.TryGetValue(id, out var job) && job.Cron == s.Cron!.Trim() && job.TimeZoneId == zone.Id && job.Removed != true)
            {
                existing.Remove(id);
                continue;
            }
            log.LogInformation("Schedule {Name}: recurring job {Id} {Action}", s.Name, id, active ? "written" : "removed");
            SyncRecurring(s);
            existing.Remove(id);
        }
        foreach (var orphan in existing.Keys) jobs.Recurring.RemoveIfExists(orphan);
    }

    /// <summary>Checks the request whole (every problem at once, as the run form does) and copies it onto the schedule.</summary>
    private async Task ApplyAsync(Schedule schedule, ScheduleRequest r, CancellationToken ct)
    {
        var problems = new List<ErrorMessage>();
        string name = "";
        try
        {
            name = Names.Schedule(r.Name);
        }
        catch (PortalException e)
        {
            problems.AddRange(e.Problems);
        }

        Datasets.Dataset? dataset = null;
        if (r.DatasetId is { } datasetId)
            dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == datasetId, ct);
        else if (!string.IsNullOrWhiteSpace(r.Dataset))
            dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Name == r.Dataset.Trim(), ct);
        if (dataset is null)
            problems.Add(r.DatasetId is null && string.IsNullOrWhiteSpace(r.Dataset)
                ? ErrorMessage.Of($"Choose the dataset to train on.")
                : ErrorMessage.Of($"Dataset '{r.Dataset ?? r.DatasetId?.ToString()}' does not exist."));

        Datasets.DatasetVersion? version = null;
        if (dataset is not null)
        {
            version = await RecipeVersions.DatasetVersionAsync(db, dataset.Id, r.DatasetVersion, ct);
            if (version is null) problems.Add(RecipeVersions.NoDatasetVersion(dataset.Name, r.DatasetVersion));
        }

        string target = "";
        try
        {
            target = Names.Model(r.TargetModel);
        }
        catch (PortalException)
        {
            problems.Add(ErrorMessage.Of($"Target model '{r.TargetModel ?? ""}' is not allowed: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."));
        }

        var fineTune = string.IsNullOrWhiteSpace(r.FineTuneModel) ? null : r.FineTuneModel.Trim();
        ModelVersionRef? parent = null;
        if (fineTune is not null)
        {
            parent = await RecipeVersions.FineTuneAsync(db, fineTune, r.FineTuneVersion, ct);
            if (parent is null) problems.Add(RecipeVersions.NoFineTuneVersion(fineTune, r.FineTuneVersion));
        }

        var options = r.Options ?? new TrainingOptions();
        if (fineTune is null && dataset is not null && r.Options?.Template is null)
            options = options with { Template = Templates.For(version?.Kind ?? Datasets.DatasetKinds.Csv) };

        var cron = string.IsNullOrWhiteSpace(r.Cron) ? null : r.Cron.Trim();
        if (cron is not null && ParseCron(cron) is null)
            problems.Add(ErrorMessage.Of($"'{cron}' is not a cron expression: use five fields (minute hour day-of-month month day-of-week), e.g. '0 3 * * *' for 03:00 every day."));
        else if (cron is not null && NextFires(cron, "UTC", DateTimeOffset.UtcNow, 3) is { Count: 3 } ticks && (ticks[1] - ticks[0] < TimeSpan.FromMinutes(1) || ticks[2] - ticks[1] < TimeSpan.FromMinutes(1)))
            problems.Add(ErrorMessage.Of($"'{cron}' fires more than once a minute; a retraining schedule fires at most every minute."));
        var zoneId = string.IsNullOrWhiteSpace(r.TimeZone) ? "UTC" : r.TimeZone.Trim();
        var zone = FindTimeZone(zoneId);
        if (zone is null)
            problems.Add(ErrorMessage.Of($"'{zoneId}' is not a time zone this server knows: use an IANA name such as 'UTC' or 'Europe/Berlin'."));
        if (cron is null && !r.OnNewDatasetVersion)
            problems.Add(ErrorMessage.Of($"Choose when the schedule fires: a cron expression, every new version of the dataset, or both."));
        if (r.OnNewDatasetVersion && r.DatasetVersion is not null)
            problems.Add(ErrorMessage.Of($"A schedule pinned to one dataset version cannot fire on new versions: leave the version empty to train on the latest."));

        var mode = (r.GateMode ?? GateModes.Promote).Trim().ToLowerInvariant();
        if (!GateModes.All.Contains(mode))
            problems.Add(ErrorMessage.Of($"Gate '{r.GateMode}' is not one of {string.Join(", ", GateModes.All)}."));
        var experimentId = r.ExperimentId ?? Tracking.Experiment.DefaultId;

        // The recipe must launch today: the same checks as a run, on the version the next fire would take.
        // What it would train also says the task (a fine-tune takes its parent's), which the gate metric must fit.
        RunLauncher.Prepared? prepared = null;
        if (version is not null && (fineTune is null || parent is not null))
        {
            try
            {
                prepared = await launcher.PrepareAsync(new NewRunRequest(version.Id, ExperimentId: experimentId)
                {
                    Options = options,
                    ParentModel = parent,
                    GivenOptions = r.Options is null ? new HashSet<string>() : NamedOptions(r.Options, fineTune is not null),
                }, ct);
            }
            catch (PortalException e) when (e.Error is PortalError.Invalid or PortalError.NotFound or PortalError.Conflict)
            {
                problems.AddRange(e.Problems);
            }
        }
        var task = prepared?.Options.Task ?? options.Task;
        var metric = (r.GateMetric ?? (task == TrainingTasks.Regression ? "r2" : "accuracy")).Trim().ToLowerInvariant();
        string[] fitting = task == TrainingTasks.Regression ? ["r2", "mse", "mae"] : ["accuracy", "f1_macro", "f1_weighted", "roc_auc"];
        if (!fitting.Contains(metric))
            problems.Add(ErrorMessage.Of($"Gate metric '{metric}' does not fit a {task} run; use one of {string.Join(", ", fitting)}."));
        else if (metric == "roc_auc" && version is not null && Datasets.DatasetIngest.ReadProfile(version).ClassNames is { Count: not 2 } classes)
            problems.Add(ErrorMessage.Of($"Gate metric 'roc_auc' needs two classes; this dataset has {classes.Count}: use accuracy, f1_macro or f1_weighted."));
        var margin = r.GateMargin ?? 0;
        if (!double.IsFinite(margin) || margin < 0)
            problems.Add(ErrorMessage.Of($"The gate margin must be a number of at least 0."));
        if (problems.Count > 0)
            throw PortalException.InvalidAll(problems.DistinctBy(p => p.English).ToList());

        schedule.Name = name;
        schedule.Description = string.IsNullOrWhiteSpace(r.Description) ? null : r.Description.Trim()[..Math.Min(r.Description.Trim().Length, 500)];
        schedule.DatasetId = dataset!.Id;
        schedule.DatasetName = dataset.Name;
        schedule.DatasetVersion = r.DatasetVersion;
        schedule.FineTuneModel = fineTune;
        schedule.FineTuneVersion = fineTune is null ? null : r.FineTuneVersion;
        schedule.OptionsJson = JsonSerializer.Serialize(options, JsonSerializerOptions.Web);
        schedule.TargetModel = target;
        schedule.ExperimentId = experimentId;
        schedule.Cron = cron;
        schedule.TimeZone = zone!.Id;
        schedule.OnNewDatasetVersion = r.OnNewDatasetVersion;
        schedule.AllowOverlap = r.AllowOverlap;
        schedule.Paused = r.Paused;
        schedule.GateMode = mode;
        schedule.GateMetric = metric;
        schedule.GateMargin = margin;
        // The schedule belongs to the team of the experiment it trains in (the launcher's checks held the caller to Editor there).
        schedule.TeamId = await db.Experiments.Where(e => e.Id == experimentId).Select(e => e.TeamId).FirstAsync(ct);
        // A gate that promotes moves versions into Production at each fire, which is an Approver's decision.
        if (mode == GateModes.Promote && user.Principal is not null)
            await services.GetRequiredService<Identity.Access>().RequireAsync(schedule.TeamId, Identity.TeamRole.Approver, $"Schedule '{schedule.Name}'", ct);
    }

    /// <summary>
    /// Which options a fine-tuning recipe chose: a fine-tune keeps the parent's task and takes the
    /// fine-tuning learning rate unless told otherwise, and a schedule's options are always whole, so
    /// only the ones that differ from the defaults count as chosen. A recipe from scratch chose them all.
    /// </summary>
    internal static IReadOnlySet<string>? NamedOptions(TrainingOptions options, bool fineTune)
    {
        if (!fineTune) return null;
        var defaults = new TrainingOptions();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (options.Task != defaults.Task) names.Add("task");
        if (options.LearningRate != defaults.LearningRate) names.Add("learningRate");
        return names;
    }

    /// <summary>One line for the audit trail.</summary>
    public static string Describe(Schedule s)
    {
        var o = OptionsOf(s);
        var what = s.FineTuneModel is { } m ? $"fine-tune {m}{(s.FineTuneVersion is { } v ? $" v{v}" : " (Production)")}" : o.Template;
        var data = s.DatasetVersion is { } dv ? $"{s.DatasetName} v{dv}" : $"{s.DatasetName} (latest)";
        var when = string.Join(" + ", new[] { s.Cron is { } c ? $"cron '{c}' {s.TimeZone}" : null, s.OnNewDatasetVersion ? "new dataset versions" : null }.Where(x => x is not null));
        var gate = s.GateMode == GateModes.Promote ? $"promote if {s.GateMetric} beats Production by {s.GateMargin:0.####}" : s.GateMode;
        return $"{what} on {data}, {o.Epochs} epochs -> {s.TargetModel}; {when}; {gate}{(s.Paused ? "; paused" : "")}";
    }
}

/// <summary>A fire with its run's status and compute.</summary>
public sealed record FireView(ScheduleFire Fire, RunStatus? RunStatus, ComputeView? Compute);
