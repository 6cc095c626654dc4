namespace ModelOps.Portal.Serving;

/// <summary>
/// The review page's live serving figures: over the last hour of flushed minutes, each version's
/// requests and errors summed and its latency percentiles as those of its worst minute (minutes keep
/// percentiles, not histograms, so an hour's exact percentile cannot be rebuilt; the worst minute is the
/// honest upper bound a manager should see).
/// </summary>
public sealed class ReviewServingFigures(ServingMetrics metrics, TimeProvider clock) : Review.IReviewServingFigures
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    public async Task<IReadOnlyList<Review.ServingFigures>> ForVersionsAsync(int registeredModelId, IReadOnlyList<int> versions, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var minutes = await metrics.QueryAsync(registeredModelId, now - Window, now, ct);
        return minutes.Where(m => versions.Contains(m.Version))
            .GroupBy(m => m.Version)
            .OrderBy(g => g.Key)
            .Select(g => new Review.ServingFigures(g.Key, g.Sum(m => m.Requests), g.Sum(m => m.Errors),
                g.Max(m => m.P50Ms), g.Max(m => m.P95Ms), g.Max(m => m.P99Ms)))
            .ToList();
    }
}
