using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Runs;

/// <summary>
/// The worker protocol (docs/worker-protocol.md). Each call carries the attempt's bearer token,
/// which is valid for its own run only, and only while that attempt is the current one.
/// </summary>
public static class WorkerApi
{
    public static RouteGroupBuilder MapWorkerApi(this RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/runs/{id:int}").WithTags("Worker protocol");
        runs.MapGet("/spec", GetSpec);
        runs.MapPost("/start", Start);
        runs.MapPost("/heartbeat", Heartbeat);
        runs.MapPost("/finish", Finish);
        // Metrics go through the tracking API's POST runs/{id}/log-batch, like any client's.
        runs.MapPut("/{name:regex(^(checkpoint|model)$)}", UploadArtifact).DisableAntiforgery();
        runs.MapGet("/{name:regex(^(checkpoint|model)$)}", DownloadArtifact);
        runs.MapGet("/parent-model", DownloadParentModel);
        return api;
    }

    public static async Task<RunSpec> GetSpec(int id, HttpContext http, PortalDb db, DataPaths paths, IOptions<PortalOptions> options, CancellationToken ct)
    {
        var run = await AuthorizeAsync(http, db, id, ct);
        var version = await db.DatasetVersions.AsNoTracking().FirstAsync(v => v.Id == run.DatasetVersionId, ct);
        var folder = paths.Resolve(version.StoragePath);
        var files = DatasetFileRoles.All
            .Select(role => new FileInfo(Path.Combine(folder, role)))
            .Where(f => f.Exists)
            .Select(f => new DatasetFileSpec(f.Name, f.Length))
            .ToList();
        var profile = DatasetIngest.ReadProfile(version);
        var training = RunOptions.Read(run);
        // A run that chose a device gets it; "auto" leaves the choice to the portal's configuration.
        var device = string.IsNullOrWhiteSpace(training.Device) || training.Device == "auto" ? options.Value.Device : training.Device;
        ParentModelSpec? parent = null;
        if (await ParentOfAsync(db, run, ct) is { } p)
            parent = new ParentModelSpec(p.RegisteredModel!.Name, p.Version, new FileInfo(paths.Resolve(p.ArtifactPath)).Length);
        return new RunSpec(run.Id, run.Attempt, training with { Device = device },
            new DatasetSpec(version.DatasetId, version.Version, version.Kind, version.LabelColumn, files, profile.ClassNames, profile.TextColumn),
            run.CheckpointEpoch, device, parent, run.StartedAt);
    }

    /// <summary>GET runs/{id}/parent-model: the package of the version this run fine-tunes, for this run's worker only.</summary>
    public static async Task<IResult> DownloadParentModel(int id, HttpContext http, PortalDb db, DataPaths paths, CancellationToken ct)
    {
        var run = await AuthorizeAsync(http, db, id, ct);
        var parent = await ParentOfAsync(db, run, ct) ?? throw PortalException.NotFound($"A parent model of run {id} (it does not fine-tune)");
        var path = paths.Resolve(parent.ArtifactPath);
        if (!File.Exists(path))
            throw PortalException.NotFound($"The package of model '{parent.RegisteredModel!.Name}' v{parent.Version}");
        return TypedResults.PhysicalFile(path, "application/octet-stream");
    }

    private static Task<Registry.ModelVersion?> ParentOfAsync(PortalDb db, Run run, CancellationToken ct) =>
        run.ParentModelVersionId is { } parentId
            ? db.ModelVersions.AsNoTracking().Include(v => v.RegisteredModel).FirstOrDefaultAsync(v => v.Id == parentId, ct)
            : Task.FromResult<Registry.ModelVersion?>(null);

    public static async Task<IResult> Start(int id, StartReport report, HttpContext http, PortalDb db, RunEvents events, CancellationToken ct)
    {
        var run = await AuthorizeAsync(http, db, id, ct);
        run.WorkerProcessId = report.ProcessId;
        if (string.IsNullOrWhiteSpace(report.Device))
            throw PortalException.Invalid($"The start report needs the device the worker trains on.", "device");
        run.Device = report.Device.Length > 40 ? report.Device[..40] : report.Device;
        run.LastHeartbeatAt = DateTime.UtcNow;
        run.StatusMessage = run.CheckpointEpoch > 0 ? $"resuming after epoch {run.CheckpointEpoch}" : "training";
        await db.SaveChangesAsync(ct);
        events.Publish(run);
        return TypedResults.NoContent();
    }

    public static async Task<HeartbeatReply> Heartbeat(int id, Heartbeat beat, HttpContext http, PortalDb db, RunEvents events, CancellationToken ct)
    {
        var run = await AuthorizeAsync(http, db, id, ct);
        run.LastHeartbeatAt = DateTime.UtcNow;
        run.Progress = Math.Clamp(double.IsFinite(beat.Progress) ? beat.Progress : 0, 0, 1);
        run.CurrentEpoch = Math.Clamp(beat.Epoch, 0, run.Epochs);
        if (!run.CancelRequested && beat.Message is { Length: > 0 })
            run.StatusMessage = beat.Message.Length > 200 ? beat.Message[..200] : beat.Message;
        // The token is the current attempt's, so the figures are that attempt's (docs/cost.md).
        RunCompute.Record(run, run.Attempt, beat.Compute);
        await db.SaveChangesAsync(ct);
        events.Publish(run);
        return new HeartbeatReply(run.CancelRequested);
    }

    public static async Task<IResult> Finish(int id, FinishReport report, HttpContext http, PortalDb db, RunEvents events, Tracking.TrackingStore store, CancellationToken ct)
    {
        var run = await AuthorizeAsync(http, db, id, ct);
        run.Status = report.Status switch
        {
            FinishStatus.Finished => RunStatus.Finished,
            FinishStatus.Failed => RunStatus.Failed,
            FinishStatus.Cancelled => RunStatus.Cancelled,
            _ => throw PortalException.Invalid($"Status '{report.Status}' is not one of Finished, Failed, Cancelled.", "status"),
        };
        RunCompute.Record(run, run.Attempt, report.Compute);
        if (run.Status == RunStatus.Finished)
        {
            if (report.Evaluation is null)
                throw PortalException.Invalid($"A finished run needs its evaluation.", "evaluation");
            if (!run.HasModel)
                throw PortalException.Invalid($"Upload the model artifact before finishing the run.", "model");
            run.EvaluationJson = JsonSerializer.Serialize(report.Evaluation, JsonSerializerOptions.Web);
            if (report.CrossValidation is { } cv) run.CrossValidationJson = RunCrossValidation.ToJson(cv);
            run.TestAccuracy = report.Evaluation.Accuracy;
            run.TestF1Macro = report.Evaluation.F1Macro;
            run.Progress = 1;
            run.CurrentEpoch = run.Epochs;
            run.StatusMessage = "finished";
        }
        else
        {
            run.Error = report.Error is { Length: > 4000 } e ? e[..4000] : report.Error;
            run.StatusMessage = run.Status == RunStatus.Cancelled ? "cancelled" : "failed";
        }
        run.EndedAt = DateTime.UtcNow;
        if (run.Status == RunStatus.Failed) Notifications.RunFailures.Raise(db, run, run.CreatedBy);
        if (run.Status == RunStatus.Finished)
        {
            // The test figures are metrics too, so the runs table and search can sort and filter on them.
            var at = new DateTimeOffset(run.EndedAt.Value).ToUnixTimeMilliseconds();
            var e = report.Evaluation!;
            var figures = new (string Key, double? Value)[]
                {
                    ("test_accuracy", e.Accuracy), ("test_f1_macro", e.F1Macro), ("test_f1_weighted", e.F1Weighted), ("test_roc_auc", e.RocAuc),
                    ("test_mse", e.Mse), ("test_mae", e.Mae), ("test_r2", e.R2),
                }
                .Where(f => f.Value is { } v && double.IsFinite(v))
                .Select(f => new PointRow(f.Key, run.Epochs, at, f.Value!.Value)).ToList();
            // Cross-validation's summary sits beside them: cv_<metric>_mean and cv_<metric>_std, step = k.
            if (report.CrossValidation is { } folds)
                figures.AddRange(RunCrossValidation.SummaryMetrics(folds).Select(m => new PointRow(m.Key, folds.K, at, m.Value)));
            await store.WriteAsync(db, run.Id, new ValidBatch(figures, new Dictionary<string, string>(), new Dictionary<string, string>()), ct);
        }
        run.WorkerTokenHash = null; // the attempt is over; its token dies with it
        await db.SaveChangesAsync(ct);
        events.Publish(run);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> UploadArtifact(int id, string name, int? epoch, HttpContext http, PortalDb db, DataPaths paths, IOptions<PortalOptions> options, CancellationToken ct)
    {
        if (!WorkerArtifacts.IsKnown(name))
            throw PortalException.Invalid($"Artifact '{name}' is not one a worker may upload (checkpoint, model).", "name");
        var run = await AuthorizeAsync(http, db, id, ct);
        // Kestrel's default body limit (about 30 MB) would refuse a larger model; ours is the configured one.
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = options.Value.MaxUploadBytes;
        var target = ArtifactPath(paths, run.Id, name);
        var partial = target + "." + Guid.NewGuid().ToString("N") + ".part";
        try
        {
            await using (var file = File.Create(partial))
            {
                var buffer = new byte[1 << 16];
                long total = 0;
                int read;
                while ((read = await http.Request.Body.ReadAsync(buffer, ct)) > 0)
                {
                    total += read;
                    if (total > options.Value.MaxUploadBytes)
                        throw new PortalException(PortalError.TooLarge, $"The artifact is larger than the upload limit.");
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }
            File.Move(partial, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
        }
        if (name == WorkerArtifacts.Checkpoint && epoch is > 0)
            run.CheckpointEpoch = epoch.Value;
        if (name == WorkerArtifacts.Model)
            run.HasModel = true;
        run.LastHeartbeatAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> DownloadArtifact(int id, string name, HttpContext http, PortalDb db, DataPaths paths, CancellationToken ct)
    {
        if (!WorkerArtifacts.IsKnown(name))
            throw PortalException.Invalid($"Artifact '{name}' is unknown (checkpoint, model).", "name");
        await AuthorizeAsync(http, db, id, ct);
        var path = ArtifactPath(paths, id, name);
        if (!File.Exists(path))
            throw PortalException.NotFound($"Artifact '{name}' of run {id}");
        return TypedResults.PhysicalFile(path, "application/octet-stream");
    }

    public static string ArtifactPath(DataPaths paths, int runId, string artifact) =>
        paths.RunArtifact(runId, artifact == WorkerArtifacts.Model ? "model.mop" : "checkpoint.ckpt");

    private static async Task<Run> AuthorizeAsync(HttpContext http, PortalDb db, int runId, CancellationToken ct)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || header.Length <= 7)
            throw new PortalException(PortalError.Unauthorized, $"A worker token is required (Authorization: Bearer ...).");
        // A person's or a service's token is not a worker's, however much it may do elsewhere.
        if (Tracking.Caller.Of(http).Kind != Tracking.CallerKind.Worker)
            throw new PortalException(PortalError.Unauthorized, $"A worker token is required (Authorization: Bearer ...).");
        var hash = RunLifecycle.HashToken(header[7..].Trim());
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, ct) ?? throw PortalException.NotFound($"Run {runId}");
        if (run.WorkerTokenHash is null || !string.Equals(run.WorkerTokenHash, hash, StringComparison.Ordinal))
            throw new PortalException(PortalError.Forbidden, $"This token does not belong to the current attempt of run {runId}.");
        if (run.Status != RunStatus.Running)
            throw new PortalException(PortalError.Conflict, $"Run {runId} is {run.Status}, not Running.");
        return run;
    }

}
