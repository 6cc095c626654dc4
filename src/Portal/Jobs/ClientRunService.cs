using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Jobs;

/// <summary>POST /runs/{id}/end: <c>status</c> is "killed" or "finished".</summary>
public sealed record EndRunRequest(string? Status);

/// <summary>
/// Runs reported by API clients (RunKind.Tracked: the Python client, a notebook) are not the
/// scheduler's: no worker holds them, so a cancel would wait forever for a worker to stop. When
/// such a client went away without ending its run, the portal ends it here instead: killed
/// (stored as Cancelled, MLflow's KILLED) or finished, with an end time, at once.
/// </summary>
public sealed class ClientRunService(PortalDb db, CurrentUser user, RunEvents events)
{
    public const string Killed = "killed";
    public const string Finished = "finished";

    public async Task<Run> EndAsync(int runId, string? status, CancellationToken ct = default)
    {
        var wanted = status?.Trim().ToLowerInvariant() switch
        {
            Killed => RunStatus.Cancelled,
            Finished => RunStatus.Finished,
            _ => throw PortalException.Invalid($"Status '{status}' is not one a run can be ended with; use 'killed' or 'finished'.", "status"),
        };
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId && r.DeletedAt == null, ct) ?? throw PortalException.NotFound($"Run {runId}");
        if (run.Kind == RunKind.Training)
            throw new PortalException(PortalError.Conflict, $"Run {runId} was scheduled by the portal; cancel it instead, so its worker stops.", "status");
        if (run.Status.IsTerminal())
            return run.Status == wanted
                ? run
                : throw new PortalException(PortalError.Conflict, $"Run {runId} has already ended ({run.Status}).", "status");
        var now = DateTime.UtcNow;
        run.Status = wanted;
        run.EndedAt = now;
        run.CancelRequested = false;
        run.StatusMessage = wanted == RunStatus.Finished ? "finished (ended from the portal)" : "killed (ended from the portal)";
        if (wanted == RunStatus.Finished) run.Progress = 1;
        db.AuditEvents.Add(new AuditEvent { At = now, Actor = user.Name, Action = "run.ended", Subject = $"run:{runId}", Details = status!.Trim().ToLowerInvariant() });
        await db.SaveChangesAsync(ct);
        events.Publish(run);
        return run;
    }
}
