using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

public sealed record RunSummary(
    int Id, string Name, string Status, string Template, int DatasetVersionId, string Dataset, int DatasetVersion,
    int Epochs, int BatchSize, double LearningRate, string Optimizer, double Progress, int Attempt,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? EndedAt, double? TestAccuracy, double? TestF1Macro,
    string? StatusMessage, string? Error, bool HasModel, string? Device);

public sealed record RunPage(IReadOnlyList<RunSummary> Items, int Total, int Page, int PageSize);

public static class RunsApi
{
    public static RouteGroupBuilder MapRunsApi(this RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags("Runs");
        runs.MapPost("/", Create);
        runs.MapGet("/", List);
        runs.MapGet("/{id:int}", Get);
        runs.MapGet("/{id:int}/metrics", Metrics);
        runs.MapGet("/{id:int}/evaluation", Evaluation);
        runs.MapPost("/{id:int}/cancel", Cancel);
        return api;
    }

    public static async Task<IResult> Create(NewRunRequest request, RunLauncher launcher, PortalDb db, CancellationToken ct)
    {
        var run = await launcher.LaunchAsync(request, "API", ct);
        return TypedResults.Created($"/api/v1/runs/{run.Id}", await Get(run.Id, db, ct));
    }

    public static async Task<RunPage> List(PortalDb db, int page = 1, int pageSize = 50, string? status = null, CancellationToken ct = default)
    {
        pageSize = Math.Clamp(pageSize, 1, 500);
        page = Math.Max(1, page);
        var query = db.Runs.AsNoTracking();
        if (!string.IsNullOrEmpty(status))
        {
            if (!Enum.TryParse<RunStatus>(status, ignoreCase: true, out var parsed))
                throw PortalException.Invalid($"Status '{status}' is not one of {string.Join(", ", Enum.GetNames<RunStatus>())}.", "status");
            query = query.Where(r => r.Status == parsed);
        }
        var total = await query.CountAsync(ct);
        var items = await Project(query.OrderByDescending(r => r.Id).Skip((page - 1) * pageSize).Take(pageSize)).ToListAsync(ct);
        return new RunPage(items, total, page, pageSize);
    }

    public static async Task<RunSummary> Get(int id, PortalDb db, CancellationToken ct) =>
        await Project(db.Runs.AsNoTracking().Where(r => r.Id == id)).FirstOrDefaultAsync(ct)
        ?? throw PortalException.NotFound($"Run {id}");

    public static async Task<IReadOnlyList<MetricPointView>> Metrics(int id, PortalDb db, string? key = null, CancellationToken ct = default)
    {
        if (!await db.Runs.AnyAsync(r => r.Id == id, ct))
            throw PortalException.NotFound($"Run {id}");
        var query = db.Metrics.AsNoTracking().Where(m => m.RunId == id);
        if (!string.IsNullOrEmpty(key)) query = query.Where(m => m.Key == key);
        return await query.OrderBy(m => m.Key).ThenBy(m => m.Step).ThenBy(m => m.Id)
            .Select(m => new MetricPointView(m.Key, m.Step, m.Value)).ToListAsync(ct);
    }

    public static async Task<RunEvaluation> Evaluation(int id, PortalDb db, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw PortalException.NotFound($"Run {id}");
        return RunEvaluation.From(run) ?? throw new PortalException(PortalError.Conflict, $"Run {id} has no evaluation yet (it is {run.Status}).");
    }

    public static async Task<IResult> Cancel(int id, RunLauncher launcher, CancellationToken ct)
    {
        await launcher.CancelAsync(id, ct);
        return TypedResults.Accepted($"/api/v1/runs/{id}");
    }

    public static IQueryable<RunSummary> Project(IQueryable<Run> runs) => runs.Select(r => new RunSummary(
        r.Id, r.Name, r.Status.ToString(), r.Template, r.DatasetVersionId, r.DatasetVersion!.Dataset!.Name, r.DatasetVersion.Version,
        r.Epochs, r.BatchSize, r.LearningRate, r.Optimizer, r.Progress, r.Attempt, r.CreatedAt, r.StartedAt, r.EndedAt,
        r.TestAccuracy, r.TestF1Macro, r.StatusMessage, r.Error, r.HasModel, r.Device));
}
