namespace ModelOps.Portal.Tracking;

// TEMPORARY until the query branch lands its LTTB; same signature.
public static class Downsampling
{
    public static IReadOnlyList<T> Lttb<T>(IReadOnlyList<T> points, int maxPoints, Func<T, double> x, Func<T, double> y)
    {
        if (points.Count <= maxPoints || maxPoints < 3) return points;
        var result = new List<T>(maxPoints) { points[0] };
        var every = (double)(points.Count - 2) / (maxPoints - 2);
        var a = 0;
        for (var i = 0; i < maxPoints - 2; i++)
        {
            var avgStart = (int)Math.Floor((i + 1) * every) + 1;
            var avgEnd = Math.Min((int)Math.Floor((i + 2) * every) + 1, points.Count);
            double avgX = 0, avgY = 0;
            for (var j = avgStart; j < avgEnd; j++) { avgX += x(points[j]); avgY += y(points[j]); }
            var n = Math.Max(1, avgEnd - avgStart);
            avgX /= n; avgY /= n;
            var start = (int)Math.Floor(i * every) + 1;
            var end = (int)Math.Floor((i + 1) * every) + 1;
            double ax = x(points[a]), ay = y(points[a]), best = -1;
            var chosen = start;
            for (var j = start; j < end; j++)
            {
                var area = Math.Abs((ax - avgX) * (y(points[j]) - ay) - (ax - x(points[j])) * (avgY - ay));
                if (area > best) { best = area; chosen = j; }
            }
            result.Add(points[chosen]);
            a = chosen;
        }
        result.Add(points[^1]);
        return result;
    }
}
