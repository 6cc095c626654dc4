using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Registry;

/// <summary>Registers run models as versions and moves versions between stages, keeping who and when.</summary>
public sealed partial class RegistryService(PortalDb db, WriteGate gate, DataPaths paths, CurrentUser user, Tracking.Artifacts.ArtifactStore artifacts, ILogger<RegistryService> log)
{
    /// <summary>Registers the run's model as the next version, refusing (409) a run that is already a version of this model.</summary>
    public Task<ModelVersion> RegisterAsync(int runId, string modelName, CancellationToken ct) =>
        RegisterAsync(runId, modelName, allowDuplicate: false, ct);

    /// <summary>
    /// The version of <paramref name="modelName"/> registered from <paramref name="runId"/> (the latest
    /// when it was registered more than once), or null: the UI asks this first, to say "already
    /// version N" or to offer another version explicitly.
    /// </summary>
    public async Task<int?> FindVersionForRunAsync(string modelName, int runId, CancellationToken ct) =>
        await db.ModelVersions.AsNoTracking()
            .Where(v => v.RegisteredModel!.Name == modelName.Trim() && v.RunId == runId)
            .MaxAsync(v => (int?)v.Version, ct);

    /// <summary>
    /// Registers the run's model as the next version of <paramref name="modelName"/>. A run that is
    /// already a version of that model is refused with 409 unless <paramref name="allowDuplicate"/>
    /// asks for another version of the same run on purpose.
    /// </summary>
    public async Task<ModelVersion> RegisterAsync(int runId, string modelName, bool allowDuplicate, CancellationToken ct, string? actorName = null)
    {
        var name = Names.Model(modelName);
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct) ?? throw PortalException.NotFound($"Run {runId}");
        if (run.Status != RunStatus.Finished || !run.HasModel)
            throw new PortalException(PortalError.Conflict, $"Run {runId} is {run.Status}; only a finished run with a model can be registered.");
        var source = WorkerApi.ArtifactPath(paths, runId, global::ModelOps.Jobs.Protocol.WorkerArtifacts.Model);
        if (!File.Exists(source))
            throw new PortalException(PortalError.Conflict, $"The model file of run {runId} is missing from the data folder.");

        var actor = actorName ?? user.Name;
        await using var writing = await gate.EnterAsync(db, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var model = await db.RegisteredModels.FirstOrDefaultAsync(m => m.Name == name, ct);
        var team = await db.Runs.Where(r => r.Id == runId).Select(r => r.Experiment!.TeamId).FirstAsync(ct);
        if (model is not null && model.TeamId != team)
            throw new PortalException(PortalError.Conflict, $"Model '{name}' belongs to another team than run {runId}; register the run under a model of its own team.", "name");
        if (model is null)
        {
            model = new RegisteredModel { Name = name, TeamId = team, CreatedAt = DateTime.UtcNow, CreatedBy = actor };
            db.RegisteredModels.Add(model);
            await db.SaveChangesAsync(ct);
        }
        // Checked under the write gate, so two clicks on Register cannot both pass.
        if (!allowDuplicate && await db.ModelVersions.Where(v => v.RegisteredModelId == model.Id && v.RunId == runId)
                .MaxAsync(v => (int?)v.Version, ct) is { } existing)
            throw new PortalException(PortalError.Conflict,
                $"Run {runId} is already version {existing} of model '{name}'. Send allowDuplicate: true to register it again as a new version.", "runId");
        var next = 1 + (await db.ModelVersions.Where(v => v.RegisteredModelId == model.Id).MaxAsync(v => (int?)v.Version, ct) ?? 0);
        var relative = paths.ModelVersionRelative(model.Id, next);
        var target = paths.Resolve(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // A registered version owns an immutable copy: deleting or re-running the run cannot change it.
        File.Copy(source, target, overwrite: true);
        // The PyTorch state dict, when the worker could export one, is kept beside the package the same way.
        var pyTorch = PyTorchPath(target);
        CopyPyTorchArtifact(runId, pyTorch);
        try
        {
            var version = new ModelVersion
            {
                RegisteredModelId = model.Id, Version = next, RunId = runId, Stage = ModelStages.None,
                CreatedAt = DateTime.UtcNow, CreatedBy = actor, ArtifactPath = relative,
            };
            db.ModelVersions.Add(version);
            db.Set<StageInterval>().Add(new StageInterval { RegisteredModelId = model.Id, Version = next, Stage = ModelStages.None, From = version.CreatedAt, By = actor, Why = $"registered from run {runId}" });
            db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = actor, Action = "model.version.registered", Subject = $"model:{name}:v{next}", TeamId = model.TeamId, Details = $"from run {runId}" });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            log.LogInformation("Registered {Model} v{Version} from run {RunId}", name, next, runId);
            version.RegisteredModel = model;
            return version;
        }
        catch
        {
            File.Delete(target);
            File.Delete(pyTorch);
            throw;
        }
    }

    /// <summary>Where a version's PyTorch state dict lives: model.pt beside its package.</summary>
    public static string PyTorchPath(string packagePath) =>
        Path.Combine(Path.GetDirectoryName(packagePath)!, global::ModelOps.Jobs.Protocol.WorkerArtifacts.PyTorchStateDict);

    private void CopyPyTorchArtifact(int runId, string target)
    {
        Stream source;
        try
        {
            source = artifacts.OpenRead(runId, global::ModelOps.Jobs.Protocol.WorkerArtifacts.PyTorchStateDict);
        }
        catch (PortalException e) when (e.Error == PortalError.NotFound)
        {
            return;
        }
        using (source)
        using (var file = File.Create(target))
            source.CopyTo(file);
    }

    /// <summary>Moves a version to a stage. Production holds one version per model: the previous one is archived.</summary>
    /// <summary><paramref name="actorName"/> names who moved it when that is not the caller (a schedule's gate), and <paramref name="why"/> goes into the audit trail and the stage history.</summary>
    public async Task<ModelVersion> PromoteAsync(string modelName, int version, string stage, CancellationToken ct, string? actorName = null, string? why = null)
    {
        var target = ParseStage(stage);
        var actor = actorName ?? user.Name;
        await using var writing = await gate.EnterAsync(db, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var model = await LoadModelAsync(modelName, ct);
        var chosen = model.Versions.FirstOrDefault(v => v.Version == version) ?? throw PortalException.NotFound($"Version {version} of model '{modelName}'");
        if (chosen.Stage == target)
            return chosen;
        await MoveAsync(model, chosen, target, actor, why, null, DateTime.UtcNow, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        log.LogInformation("{Model} v{Version} moved to {Stage} by {Actor}", model.Name, version, target, actor);
        return chosen;
    }

    private static string ParseStage(string stage) =>
        ModelStages.All.FirstOrDefault(s => string.Equals(s, stage?.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw PortalException.Invalid($"Stage '{stage}' is not one of {string.Join(", ", ModelStages.All)}.", "stage");

    private async Task<RegisteredModel> LoadModelAsync(string modelName, CancellationToken ct) =>
        await db.RegisteredModels.Include(m => m.Versions).FirstOrDefaultAsync(m => m.Name == modelName, ct)
            ?? throw PortalException.NotFound($"Model '{modelName}'");

    /// <summary>
    /// The one place a stage changes (direct moves, approvals, rollbacks, schedules' gates): archives
    /// the old Production when the target is Production, audits each move and closes and opens the
    /// stage-history intervals, all in the caller's pending changes.
    /// </summary>
    private async Task MoveAsync(RegisteredModel model, ModelVersion chosen, string target, string actor, string? why, int? requestId, DateTime now, CancellationToken ct)
    {
        if (target == ModelStages.Production)
        {
            foreach (var current in model.Versions.Where(v => v.Stage == ModelStages.Production && v.Id != chosen.Id).ToList())
            {
                db.AuditEvents.Add(new AuditEvent { At = now, Actor = actor, Action = "model.stage.changed", Subject = $"model:{model.Name}:v{current.Version}", TeamId = model.TeamId, Details = $"Production -> Archived (replaced by v{chosen.Version})", Before = ModelStages.Production, After = ModelStages.Archived });
                await RecordIntervalAsync(model, current, ModelStages.Archived, actor, $"replaced by v{chosen.Version}" + (why is null ? "" : $": {why}"), requestId, now, ct);
                current.Stage = ModelStages.Archived;
                current.StageChangedAt = now;
                current.StageChangedBy = actor;
            }
        }
        db.AuditEvents.Add(new AuditEvent { At = now, Actor = actor, Action = "model.stage.changed", Subject = $"model:{model.Name}:v{chosen.Version}", TeamId = model.TeamId, Details = why is null ? $"{chosen.Stage} -> {target}" : $"{chosen.Stage} -> {target}: {why}", Before = chosen.Stage, After = target });
        await RecordIntervalAsync(model, chosen, target, actor, why, requestId, now, ct);
        chosen.Stage = target;
        chosen.StageChangedAt = now;
        chosen.StageChangedBy = actor;
    }

    private async Task RecordIntervalAsync(RegisteredModel model, ModelVersion version, string stage, string actor, string? why, int? requestId, DateTime now, CancellationToken ct)
    {
        var history = db.Set<StageInterval>();
        var open = await history.Where(h => h.RegisteredModelId == model.Id && h.Version == version.Version && h.To == null).ToListAsync(ct);
        foreach (var interval in open)
            interval.To = now;
        // A version whose stage was written without its interval (rows older than the history) gets the one it
        // evidently held, from its last recorded stage change, so a rollback can find it.
        if (open.Count == 0)
            history.Add(new StageInterval { RegisteredModelId = model.Id, Version = version.Version, Stage = version.Stage, From = version.StageChangedAt ?? version.CreatedAt, To = now, By = version.StageChangedBy ?? version.CreatedBy, Why = "recorded when it left the stage" });
        history.Add(new StageInterval { RegisteredModelId = model.Id, Version = version.Version, Stage = stage, From = now, By = actor, Why = why, RequestId = requestId });
    }
}
