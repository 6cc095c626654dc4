using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

/// <summary>
/// A run as the API shows it (docs/tracking.md). The training fields are those of a launched run and
/// empty defaults for a tracked one; params, tags and latest metrics are filled in by <see cref="RunsApi.HydrateAsync"/>.
/// </summary>
public sealed record RunSummary(
    int Id, int ExperimentId, string Name, string Kind, string Status, string Source, int? ParentRunId, string? Notes,
    DateTime CreatedAt, string CreatedBy, DateTime? StartedAt, DateTime? EndedAt,
    int? DatasetVersionId, string? Dataset, int? DatasetVersion,
    string Template, int Epochs, int BatchSize, double LearningRate, string Optimizer, double Progress, int Attempt,
    double? TestAccuracy, double? TestF1Macro, string? StatusMessage, string? Error, bool HasModel, string? Device)
{
    public IReadOnlyDictionary<string, string> Params { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    /// <summary>A training run's full options (GET runs/{id} only); null for tracked runs and in lists.</summary>
    public ModelOps.Engine.Training.TrainingOptions? Options { get; init; }
    /// <summary>The registered model version this run fine-tunes; null when it trained from scratch.</summary>
    public ModelVersionRef? ParentModel { get; init; }
    /// <summary>The k-fold cross-validation report of a finished run that cross-validated (GET runs/{id} only).</summary>
    public CrossValidationDto? CrossValidation { get; init; }
    /// <summary>
    /// The run's compute over all attempts (docs/cost.md): GPU-seconds, CPU core-seconds and, where a price is set,
    /// their cost at the current prices; null for a run nobody measured (tracked runs).
    /// </summary>
    public ComputeView? Compute { get; init; }
}

public sealed record RunPage(IReadOnlyList<RunSummary> Items, int Total, int Page, int PageSize);

public static class RunsApi
{
    public static RouteGroupBuilder MapRunsApi(this RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags("Runs");
        runs.MapPost("/", Create).Accepts<NewRunRequest>("application/json").Produces<RunSummary>(StatusCodes.Status201Created);
        runs.MapGet("/", List);
        runs.MapGet("/{id:int}", async (int id, PortalDb db, IOptions<CostOptions> cost, CancellationToken ct) => WithCost(await Get(id, db, ct), cost.Value));
        runs.MapGet("/{id:int}/evaluation", Evaluation);
        runs.MapPost("/{id:int}/cancel", Cancel);
        runs.MapPost("/{id:int}/end", End);
        runs.MapGet("/{id:int}/package", Package).WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Editor));
        return api;
    }

    /// <summary>
    /// The body is read here rather than bound, because a fine-tune needs to know which options the caller
    /// named (a rate left out becomes the fine-tuning default; the engine's default rate sent on purpose stays).
    /// </summary>
    public static async Task<IResult> Create(HttpRequest http, RunLauncher launcher, PortalDb db, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct)
    {
        NewRunRequest request;
        try
        {
            var body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Body, json.Value.SerializerOptions, ct);
            request = (body.ValueKind == JsonValueKind.Object ? body.Deserialize<NewRunRequest>(json.Value.SerializerOptions) : null)
                ?? throw PortalException.Invalid($"The request body must be a JSON object describing the run.", "body");
            request = request with { GivenOptions = NewRunRequest.NamedOptions(body) };
        }
        catch (JsonException e)
        {
            throw PortalException.Invalid($"The request body is not a valid run request: {e.Message}", "body");
        }
        var run = await launcher.LaunchAsync(request, "API", ct);
        return TypedResults.Created($"/api/v1/runs/{run.Id}", await Get(run.Id, db, ct));
    }

    public static async Task<RunPage> List(PortalDb db, IOptions<CostOptions> cost, Identity.Access access, int page = 1, int pageSize = 50, string? status = null, CancellationToken ct = default)
    {
        pageSize = Math.Clamp(pageSize, 1, 500);
        page = Math.Max(1, page);
        var teams = await access.ListTeamsAsync(ct);
        var query = db.Runs.AsNoTracking().Where(r => r.DeletedAt == null && teams.Contains(r.Experiment!.TeamId));
        if (!string.IsNullOrEmpty(status))
        {
            if (!Enum.TryParse<RunStatus>(status, ignoreCase: true, out var parsed))
                throw PortalException.Invalid($"Status '{status}' is not one of {string.Join(", ", Enum.GetNames<RunStatus>())}.", "status");
            query = query.Where(r => r.Status == parsed);
        }
        var total = await query.CountAsync(ct);
        var items = await Project(query.OrderByDescending(r => r.Id).Skip((page - 1) * pageSize).Take(pageSize)).ToListAsync(ct);
        return new RunPage((await HydrateAsync(db, items, ct)).Select(r => WithCost(r, cost.Value)).ToList(), total, page, pageSize);
    }

    public static async Task<RunSummary> Get(int id, PortalDb db, CancellationToken ct)
    {
        var run = await Project(db.Runs.AsNoTracking().Where(r => r.Id == id && r.DeletedAt == null)).FirstOrDefaultAsync(ct)
            ?? throw PortalException.NotFound($"Run {id}");
        var hydrated = (await HydrateAsync(db, [run], ct))[0];
        if (run.Kind != "training") return hydrated;
        var stored = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == id, ct);
        return hydrated with { Options = RunOptions.Read(stored), CrossValidation = RunCrossValidation.From(stored) };
    }

    /// <summary>The run with the cost of its compute at the current prices (a projection has the seconds only).</summary>
    public static RunSummary WithCost(RunSummary run, CostOptions prices) =>
        run.Compute is { } c ? run with { Compute = RunCompute.Sum(c.GpuSeconds, c.CpuCoreSeconds, prices) } : run;

    /// <summary>GET runs/{id}/package: a finished run's model package (.mopkg), for anyone who may read the run.</summary>
    public static async Task<IResult> Package(int id, HttpContext http, PortalDb db, DataPaths paths, CancellationToken ct)
    {
        var run = await Tracking.RunAccess.ForReadAsync(http, db, id, ct);
        var path = WorkerApi.ArtifactPath(paths, run.Id, WorkerArtifacts.Model);
        if (!run.HasModel || !File.Exists(path))
            throw PortalException.NotFound($"The model package of run {id}");
        return TypedResults.PhysicalFile(path, "application/octet-stream", $"run-{id}{ModelOps.Engine.Models.ModelPackage.FileExtension}");
    }

    /// <summary>Adds params, tags and latest metrics to runs read from the runs table: three queries for any number of runs.</summary>
    public static async Task<IReadOnlyList<RunSummary>> HydrateAsync(PortalDb db, IReadOnlyList<RunSummary> runs, CancellationToken ct)
    {
        var ids = runs.Select(r => r.Id).ToList();
        var parameters = await Tracking.TrackingStore.ParamsAsync(db, ids, ct);
        var tags = await Tracking.TrackingStore.TagsAsync(db, ids, ct);
        var latest = await Tracking.TrackingStore.LatestAsync(db, ids, ct);
        return runs.Select(r => r with
        {
            Params = parameters[r.Id],
            Tags = tags[r.Id],
            Metrics = latest[r.Id].ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal),
        }).ToList();
    }

    public static async Task<RunEvaluation> Evaluation(int id, PortalDb db, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw PortalException.NotFound($"Run {id}");
        return RunEvaluation.From(run) ?? throw new PortalException(PortalError.Conflict, $"Run {id} has no evaluation yet (it is {run.Status}).");
    }

    /// <summary>Ends a run an API client reported and left running (killed or finished); see ClientRunService.</summary>
    public static async Task<RunSummary> End(int id, ModelOps.Portal.Jobs.EndRunRequest request, ModelOps.Portal.Jobs.ClientRunService runs, PortalDb db, CancellationToken ct)
    {
        await runs.EndAsync(id, request.Status, ct);
        return await Get(id, db, ct);
    }

    public static async Task<IResult> Cancel(int id, RunLauncher launcher, CancellationToken ct)
    {
        await launcher.CancelAsync(id, ct);
        return TypedResults.Accepted($"/api/v1/runs/{id}");
    }

    public static IQueryable<RunSummary> Project(IQueryable<Run> runs) => runs.Select(r => new RunSummary(
        r.Id, r.ExperimentId, r.Name, r.Kind == RunKind.Training ? "training" : "tracked", r.Status.ToString(), r.Source, r.ParentRunId, r.Notes,
        r.CreatedAt, r.CreatedBy, r.StartedAt, r.EndedAt,
        r.DatasetVersionId, r.DatasetVersion != null ? r.DatasetVersion.Dataset!.Name : null, r.DatasetVersion != null ? r.DatasetVersion.Version : null,
        r.Template, r.Epochs, r.BatchSize, r.LearningRate, r.Optimizer, r.Progress, r.Attempt,
        r.TestAccuracy, r.TestF1Macro, r.StatusMessage, r.Error, r.HasModel, r.Device)
    {
        ParentModel = r.ParentModelVersion != null ? new ModelVersionRef(r.ParentModelVersion.RegisteredModel!.Name, r.ParentModelVersion.Version) : null,
        Compute = r.GpuSeconds != null || r.CpuCoreSeconds != null ? new ComputeView(r.GpuSeconds ?? 0, r.CpuCoreSeconds ?? 0, null, null) : null,
    });
}
