namespace ModelOps.Portal.Tracking;

/// <summary>Reduces a series to fewer points for a chart while keeping its shape.</summary>
public static class Downsampling
{
    /// <summary>
    /// Largest-Triangle-Three-Buckets (Steinarsson, 2013). Keeps the first and the last point; splits the rest
    /// into <c>maxPoints - 2</c> buckets and from each keeps the point that makes the largest triangle with
    /// the point kept before it and the average of the next bucket, so spikes survive. Points are expected in
    /// x order (a metric series in step order). Returns <paramref name="points"/> itself when it has at most
    /// <paramref name="maxPoints"/> points, and exactly <paramref name="maxPoints"/> points otherwise.
    /// </summary>
    /// <param name="points">The series, in x order.</param>
    /// <param name="maxPoints">At least 2 (the first and the last point); 2 gives just those.</param>
    /// <param name="x">The horizontal value of a point (a metric's step).</param>
    /// <param name="y">The vertical value of a point (a metric's value).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPoints"/> is less than 2.</exception>
    public static IReadOnlyList<T> Lttb<T>(IReadOnlyList<T> points, int maxPoints, Func<T, double> x, Func<T, double> y)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (maxPoints < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPoints), maxPoints, "LTTB keeps the first and the last point, so maxPoints must be at least 2.");
        }
        var n = points.Count;
        if (n <= maxPoints) return points;
        if (maxPoints == 2) return [points[0], points[n - 1]];

        // Reading every coordinate once into arrays keeps the delegate calls out of the inner loops.
        var xs = new double[n];
        var ys = new double[n];
        for (var i = 0; i < n; i++)
        {
            xs[i] = x(points[i]);
            ys[i] = y(points[i]);
        }

        var sampled = new T[maxPoints];
        sampled[0] = points[0];
        // Bucket b holds points [1 + b(n-2)/(m-2), 1 + (b+1)(n-2)/(m-2)); integer arithmetic keeps the edges exact.
        long inner = n - 2, buckets = maxPoints - 2;
        var previous = 0;
        for (var bucket = 0L; bucket < buckets; bucket++)
        {
            // The average of the next bucket (the last point, for the last bucket) is the triangle's third corner.
            var nextStart = (int)((bucket + 1) * inner / buckets) + 1;
            var nextEnd = bucket == buckets - 1 ? n : (int)((bucket + 2) * inner / buckets) + 1;
            double averageX = 0, averageY = 0;
            for (var i = nextStart; i < nextEnd; i++)
            {
                averageX += xs[i];
                averageY += ys[i];
            }
            averageX /= nextEnd - nextStart;
            averageY /= nextEnd - nextStart;

            var start = (int)(bucket * inner / buckets) + 1;
            var end = nextStart;
            var (ax, ay) = (xs[previous], ys[previous]);
            var largest = -1.0;
            var chosen = start;
            for (var i = start; i < end; i++)
            {
                // Twice the triangle's area; the factor does not change which point wins.
                var area = Math.Abs((ax - averageX) * (ys[i] - ay) - (ax - xs[i]) * (averageY - ay));
                if (area > largest)
                {
                    largest = area;
                    chosen = i;
                }
            }
            sampled[bucket + 1] = points[chosen];
            previous = chosen;
        }
        sampled[maxPoints - 1] = points[n - 1];
        return sampled;
    }
}
