using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Tracking;

public sealed record NewTrackedRun(
    string? Name = null, string? Source = null, int? ParentRunId = null, string? Notes = null, int? DatasetVersionId = null,
    Dictionary<string, JsonElement>? Params = null, Dictionary<string, JsonElement>? Tags = null);

public sealed record RunPatch(string? Name = null, string? Notes = null, string? Status = null);

public sealed record HistoryView(string Key, long TotalPoints, bool Downsampled, IReadOnlyList<SeriesPoint> Points);

public sealed record HistoryPage(IReadOnlyList<SeriesPoint> Points, string? NextPageToken);

/// <summary>The tracking routes on runs (docs/tracking.md): create, read, update, delete, log, metric history.</summary>
public static class TrackingApi
{
    public const int DefaultMaxPoints = 1000;
    public const int MaxMaxPoints = 10_000;

    public static RouteGroupBuilder MapTrackingApi(this RouteGroupBuilder api)
    {
        api.MapPost("/experiments/{experimentId:int}/runs", CreateRun).WithTags("Runs");
        var runs = api.MapGroup("/runs/{id:int}").WithTags("Runs");
        runs.MapPatch("/", Update);
        runs.MapDelete("/", Delete);
        runs.MapPost("/log-batch", LogBatch);
        runs.MapGet("/metrics", Latest);
        runs.MapGet("/metrics/history", History);
        runs.MapGet("/metrics/raw", Raw);
        return api;
    }

    public static async Task<IResult> CreateRun(int experimentId, NewTrackedRun request, HttpContext http, PortalDb db, WriteGate gate, CurrentUser user,
        Identity.Access access, CancellationToken ct)
    {
        Caller.RefuseWorkers(http, $"A worker's token writes only its own run; creating runs needs an API token.");
        if (!await db.Experiments.AnyAsync(e => e.Id == experimentId && e.DeletedAt == null, ct))
            throw PortalException.NotFound($"Experiment {experimentId}");
        var source = request.Source?.Trim() ?? "API";
        if (source is not ("API" or "sweep"))
            throw PortalException.Invalid($"Source '{source}' is not one a client may set; use 'API' or 'sweep'.", "source");
        // What the run refers to must be readable by the caller; another team's answers as if it did not exist.
        if (request.ParentRunId is { } parent
            && (await db.Runs.Where(r => r.Id == parent && r.DeletedAt == null).Select(r => (int?)r.Experiment!.TeamId).FirstOrDefaultAsync(ct) is not { } parentTeam
                || !await access.HasAsync(parentTeam, Identity.TeamRole.Viewer, ct)))
            throw PortalException.NotFound($"Parent run {parent}");
        if (request.DatasetVersionId is { } dv
            && (await db.DatasetVersions.Where(v => v.Id == dv).Select(v => (int?)v.Dataset!.TeamId).FirstOrDefaultAsync(ct) is not { } datasetTeam
                || !await access.HasAsync(datasetTeam, Identity.TeamRole.Viewer, ct)))
            throw PortalException.NotFound($"Dataset version {dv}");
        var batch = TrackingRules.Validate(new LogBatch(
            Params: request.Params?.Select(p => new KeyValue(p.Key, p.Value)).ToList(),
            Tags: request.Tags?.Select(t => new KeyValue(t.Key, t.Value)).ToList()));
        var now = DateTime.UtcNow;
        var run = new Run
        {
            ExperimentId = experimentId,
            Kind = RunKind.Tracked,
            Name = Names.RunName(request.Name) ?? $"run {now:yyyy-MM-dd HH:mm:ss}",
            ParentRunId = request.ParentRunId,
            Notes = Names.Notes(request.Notes),
            DatasetVersionId = request.DatasetVersionId,
            Template = "",
            Optimizer = "",
            Status = RunStatus.Running,
            Source = source,
            CreatedAt = now,
            CreatedBy = user.Name,
            StartedAt = now,
            StatusMessage = "running",
        };
        db.Runs.Add(run);
        // The run and its first params and tags are one transaction: a client never sees half a run.
        // The gate is taken first, as for every multi-statement write, so the transaction never waits
        // on SQLite's file lock while another writer waits on the gate.
        await using (await gate.EnterAsync(db, ct))
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            await db.SaveChangesAsync(ct);
            foreach (var (k, v) in batch.Params)
                db.RunParams.Add(new RunParam { RunId = run.Id, Key = k, Value = v, NumValue = TrackingRules.Number(v) });
            foreach (var (k, v) in batch.Tags)
                db.RunTags.Add(new RunTag { RunId = run.Id, Key = k, Value = v });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        return TypedResults.Created($"/api/v1/runs/{run.Id}", await RunsApi.Get(run.Id, db, ct));
    }

    public static async Task<RunSummary> Update(int id, RunPatch patch, HttpContext http, PortalDb db, RunEvents events, CancellationToken ct)
    {
        var run = await RunAccess.ForWriteAsync(http, db, id, ct);
        if (patch.Name is not null)
            run.Name = Names.RunName(patch.Name) ?? throw PortalException.Invalid($"A run's name must not be empty.", "name");
        if (patch.Notes is not null)
            run.Notes = Names.Notes(patch.Notes);
        if (patch.Status is not null)
        {
            if (run.Kind == RunKind.Training)
                throw new PortalException(PortalError.Conflict, $"Run {id} was launched by the portal; its status belongs to the scheduler. Cancel it instead.", "status");
            if (!Enum.TryParse<RunStatus>(patch.Status, ignoreCase: true, out var status) || !status.IsTerminal() && status != RunStatus.Running)
                throw PortalException.Invalid($"Status '{patch.Status}' is not one of Running, Finished, Failed, Cancelled.", "status");
            run.Status = status;
            run.EndedAt = status.IsTerminal() ? run.EndedAt ?? DateTime.UtcNow : null;
            run.StatusMessage = status.ToString().ToLowerInvariant();
            if (status == RunStatus.Finished) run.Progress = 1;
        }
        await db.SaveChangesAsync(ct);
        events.Publish(run);
        return await RunsApi.Get(id, db, ct);
    }

    public static async Task<IResult> Delete(int id, HttpContext http, PortalDb db, CurrentUser user, CancellationToken ct)
    {
        var run = await RunAccess.ForWriteAsync(http, db, id, ct);
        if (Caller.Of(http).Kind == CallerKind.Worker)
            throw new PortalException(PortalError.Forbidden, $"A worker's token cannot delete its run.");
        if (run.Kind == RunKind.Training && !run.Status.IsTerminal())
            throw new PortalException(PortalError.Conflict, $"Run {id} is {run.Status}; cancel it before deleting it.");
        run.DeletedAt = DateTime.UtcNow;
        db.AuditEvents.Add(new Audit.AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "run.deleted", Subject = $"run:{id}", Details = run.Name });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> LogBatch(int id, LogBatch batch, HttpContext http, PortalDb db, TrackingStore store, RunEvents events, CancellationToken ct)
    {
        var valid = TrackingRules.Validate(batch ?? new LogBatch());
        var run = await RunAccess.ForWriteAsync(http, db, id, ct);
        if (run.Kind == RunKind.Training && Caller.Of(http).Kind != CallerKind.Worker && valid.Points.Count > 0)
            throw new PortalException(PortalError.Conflict, $"Run {id} was launched by the portal; only its worker logs its metrics.", "metrics");
        await store.WriteAsync(db, id, valid, ct);
        if (Caller.Of(http).Kind == CallerKind.Worker)
        {
            run.LastHeartbeatAt = DateTime.UtcNow;
            await db.SaveChangesAsync(ct);
        }
        if (valid.Points.Count > 0 && events.IsWatched(id))
            events.Publish(run, valid.Points.Select(p => new MetricPointView(p.Key, p.Step, p.Value)).ToList());
        return TypedResults.NoContent();
    }

    public static async Task<IReadOnlyList<MetricValue>> Latest(int id, HttpContext http, PortalDb db, CancellationToken ct)
    {
        await RunAccess.ForReadAsync(http, db, id, ct);
        return (await TrackingStore.LatestAsync(db, [id], ct))[id];
    }

    public static async Task<HistoryView> History(int id, string? key, HttpContext http, PortalDb db, int maxPoints = DefaultMaxPoints, CancellationToken ct = default)
    {
        await RunAccess.ForReadAsync(http, db, id, ct);
        if (string.IsNullOrEmpty(key))
            throw PortalException.Invalid($"Name the metric: ?key=...", "key");
        if (maxPoints is < 2 or > MaxMaxPoints)
            throw PortalException.Invalid($"maxPoints must be between 2 and {MaxMaxPoints}.", "maxPoints");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var series = await TrackingStore.SeriesAsync(db, id, key, ct) ?? [];
        var read = clock.Elapsed.TotalMilliseconds;
        var points = series.Count <= maxPoints ? series : Downsampling.Lttb(series, maxPoints, p => p.Step, p => p.Value);
        http.Response.Headers["Server-Timing"] = FormattableString.Invariant(
            $"read;dur={read:0.0}, downsample;dur={clock.Elapsed.TotalMilliseconds - read:0.0}");
        return new HistoryView(key, series.Count, points.Count < series.Count, points);
    }

    public static async Task<HistoryPage> Raw(int id, string? key, HttpContext http, PortalDb db, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default)
    {
        await RunAccess.ForReadAsync(http, db, id, ct);
        if (string.IsNullOrEmpty(key))
            throw PortalException.Invalid($"Name the metric: ?key=...", "key");
        if (pageSize is < 1 or > MaxMaxPoints)
            throw PortalException.Invalid($"pageSize must be between 1 and {MaxMaxPoints}.", "pageSize");
        var after = pageToken is null ? (SeriesPoint?)null : DecodePoint(pageToken);
        var points = await TrackingStore.SeriesPageAsync(db, id, key, after, pageSize, ct);
        var next = points.Count == pageSize ? EncodePoint(points[^1]) : null;
        return new HistoryPage(points, next);
    }

    private static string EncodePoint(SeriesPoint p) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new[] { p.Step, p.Timestamp, BitConverter.DoubleToInt64Bits(p.Value) })))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static SeriesPoint DecodePoint(string token)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 += new string('=', (4 - base64.Length % 4) % 4);
            var parts = JsonSerializer.Deserialize<long[]>(Encoding.UTF8.GetString(Convert.FromBase64String(base64)));
            if (parts is { Length: 3 }) return new SeriesPoint(parts[0], BitConverter.Int64BitsToDouble(parts[2]), parts[1]);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
        }
        throw PortalException.Invalid($"The page token is not one this endpoint issued.", "pageToken");
    }
}
