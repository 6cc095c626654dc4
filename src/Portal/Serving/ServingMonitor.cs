using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Serving;

/// <summary>
/// Every <see cref="ServingOptions.FlushMilliseconds"/>: writes one row per version-minute (replacing
/// the minute's row while the minute is still counting), deletes rows and drift points past the
/// retention, and evaluates drift. Storage is bounded by versions x minutes of retention.
/// </summary>
public sealed class ServingMonitor(IDbContextFactory<PortalDb> dbs, WriteGate gate, ServingMeters meters, DriftMonitor drift, DeploymentTable deployments,
    IOptions<ServingOptions> options, ILogger<ServingMonitor> log) : BackgroundService
{
    private readonly SemaphoreSlim _one = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(50, options.Value.FlushMilliseconds)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await FlushAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "Writing the serving figures failed; the next flush tries again");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        // What the last seconds counted is written on the way out.
        try
        {
            await FlushAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "The last flush of the serving figures failed");
        }
    }

    /// <summary>Writes the figures counted so far and evaluates drift now (the timer calls it; tests call it to see the effect at once).</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        await _one.WaitAsync(ct);
        try
        {
            var buckets = meters.TakeForFlush();
            await using (var db = await dbs.CreateDbContextAsync(ct))
            {
                await using var writing = await gate.EnterAsync(db, ct);
                if (buckets.Count > 0)
                {
                    var ids = buckets.Select(b => b.VersionId).Distinct().ToList();
                    var minutes = buckets.Select(b => b.Bucket.MinuteUtc).Distinct().ToList();
                    var existing = await db.Set<ServingMinute>().Where(m => ids.Contains(m.ModelVersionId) && minutes.Contains(m.Minute))
                        .ToDictionaryAsync(m => (m.ModelVersionId, m.Minute), ct);
                    var known = await db.ModelVersions.Where(v => ids.Contains(v.Id)).Select(v => v.Id).ToListAsync(ct);
                    foreach (var (versionId, bucket) in buckets)
                    {
                        if (!known.Contains(versionId)) continue;
                        if (!existing.TryGetValue((versionId, bucket.MinuteUtc), out var row))
                        {
                            row = new ServingMinute { ModelVersionId = versionId, Minute = bucket.MinuteUtc, Role = bucket.Role };
                            db.Set<ServingMinute>().Add(row);
                            existing[(versionId, bucket.MinuteUtc)] = row;
                        }
                        var histogram = bucket.Histogram.Select(c => Interlocked.Read(ref c)).ToArray();
                        row.Role = bucket.Role;
                        row.Requests = Interlocked.Read(ref bucket.Requests);
                        row.Errors = Interlocked.Read(ref bucket.Errors);
                        row.P50Ms = LatencyHistogram.Percentile(histogram, 0.50);
                        row.P95Ms = LatencyHistogram.Percentile(histogram, 0.95);
                        row.P99Ms = LatencyHistogram.Percentile(histogram, 0.99);
                        row.ShadowCompared = Interlocked.Read(ref bucket.ShadowCompared);
                        row.ShadowAgreed = Interlocked.Read(ref bucket.ShadowAgreed);
                    }
                    await db.SaveChangesAsync(ct);
                }
                var cutoff = DateTime.UtcNow.AddDays(-options.Value.RetentionDays);
                await db.Set<ServingMinute>().Where(m => m.Minute < cutoff).ExecuteDeleteAsync(ct);
                await db.Set<DriftPoint>().Where(p => p.At < cutoff).ExecuteDeleteAsync(ct);
            }
            await drift.EvaluateAsync(await deployments.AllAsync(ct), ct);
        }
        finally
        {
            _one.Release();
        }
    }
}
