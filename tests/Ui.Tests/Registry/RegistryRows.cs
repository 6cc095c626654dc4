using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;

namespace ModelOps.Ui.Tests.Registry;

/// <summary>Rows for the registry, jobs and overview pages, written through the real DbContext and the real services.</summary>
internal static class RegistryRows
{
    public static Run TrainingRun(string name, RunStatus status, double progress = 0) => new()
    {
        Kind = RunKind.Training, Name = name, Template = "mlp", Optimizer = "adam", Epochs = 10, BatchSize = 16, LearningRate = 0.01,
        Status = status, Source = "UI", CreatedAt = DateTime.UtcNow.AddMinutes(-5), CreatedBy = "ada",
        StartedAt = status == RunStatus.Queued ? null : DateTime.UtcNow.AddMinutes(-4),
        EndedAt = status.IsTerminal() ? DateTime.UtcNow.AddMinutes(-1) : null,
        LastHeartbeatAt = status == RunStatus.Running ? DateTime.UtcNow.AddSeconds(-3) : null,
        Progress = progress, CurrentEpoch = (int)(progress * 10), Attempt = status == RunStatus.Queued ? 0 : 1,
        HasModel = status == RunStatus.Finished, TestAccuracy = status == RunStatus.Finished ? 0.93 : null,
        StatusMessage = status == RunStatus.Queued ? "queued" : null,
    };

    public static int AddRun(PortalDb db, Run run)
    {
        db.Runs.Add(run);
        db.SaveChanges();
        return run.Id;
    }

    /// <summary>A run as the Python client reports one: POST /api/v1/experiments/1/runs, through the route's own handler.</summary>
    public static async Task<int> ClientReportedRunAsync(IServiceProvider services, string name)
    {
        var http = new DefaultHttpContext { RequestServices = services };
        await TrackingApi.CreateRun(1, new NewTrackedRun(Name: name), http, services.GetRequiredService<PortalDb>(),
            services.GetRequiredService<WriteGate>(), services.GetRequiredService<CurrentUser>(), services.GetRequiredService<ModelOps.Portal.Identity.Access>(), CancellationToken.None);
        var db = services.GetRequiredService<PortalDb>();
        return db.Runs.Where(r => r.Name == name).Select(r => r.Id).Single();
    }

    /// <summary>A registered model with one version per stage given (v1 first), each from its own finished run.</summary>
    public static void AddModel(PortalDb db, string name, params string[] stages)
    {
        var model = new RegisteredModel { Name = name, CreatedAt = DateTime.UtcNow.AddDays(-1), CreatedBy = "ada" };
        db.RegisteredModels.Add(model);
        db.SaveChanges();
        for (var i = 0; i < stages.Length; i++)
        {
            var runId = AddRun(db, TrainingRun($"{name} run {i + 1}", RunStatus.Finished));
            db.ModelVersions.Add(new ModelVersion
            {
                RegisteredModelId = model.Id, Version = i + 1, RunId = runId, Stage = stages[i],
                CreatedAt = DateTime.UtcNow.AddHours(-10 + i), CreatedBy = "ada", ArtifactPath = $"models/{model.Id}/v{i + 1}/model.mop",
                StageChangedAt = stages[i] == ModelStages.None ? null : DateTime.UtcNow.AddHours(-5 + i),
                StageChangedBy = stages[i] == ModelStages.None ? null : "ada",
            });
        }
        db.SaveChanges();
    }

    /// <summary>A finished training run whose model file the worker uploaded, so RegistryService can register it.</summary>
    public static int FinishedRunWithModelFile(PortalDb db, DataPaths paths, string name)
    {
        var id = AddRun(db, TrainingRun(name, RunStatus.Finished));
        var file = WorkerApi.ArtifactPath(paths, id, global::ModelOps.Jobs.Protocol.WorkerArtifacts.Model);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, [1, 2, 3]);
        return id;
    }
}
