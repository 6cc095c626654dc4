// TEMPORARY: replaced by the integrator (the real one checks API and worker tokens). Keep theirs on merge.
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Tracking;

/// <summary>TEMPORARY stand-in: only checks that the run exists (404 otherwise) and returns its id.</summary>
public static class RunAccess
{
    public static Task<int> ForWriteAsync(HttpContext http, PortalDb db, int runId, CancellationToken ct) => ExistsAsync(db, runId, ct);

    public static Task<int> ForReadAsync(HttpContext http, PortalDb db, int runId, CancellationToken ct) => ExistsAsync(db, runId, ct);

    private static async Task<int> ExistsAsync(PortalDb db, int runId, CancellationToken ct) =>
        await db.Runs.AnyAsync(r => r.Id == runId, ct) ? runId : throw PortalException.NotFound($"Run {runId}");
}
