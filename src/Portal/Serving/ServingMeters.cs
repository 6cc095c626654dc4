using System.Collections.Concurrent;

namespace ModelOps.Portal.Serving;

/// <summary>The part a version plays in serving its model.</summary>
public static class ServingRoles
{
    public const string Production = "production";
    public const string Canary = "canary";
    public const string Shadow = "shadow";
}

/// <summary>
/// Latency buckets on a log scale: bucket i holds [10 µs * 1.25^i, 10 µs * 1.25^(i+1)), 64 buckets up to
/// about 16 s (the last one holds anything slower). A percentile is the upper edge of its bucket: at most
/// 25 % high, never low, and recording is one Log and one Interlocked.Increment.
/// </summary>
public static class LatencyHistogram
{
    public const int Buckets = 64;
    private const double Base = 0.01;
    private static readonly double LogFactor = Math.Log(1.25);

    public static int BucketOf(double milliseconds) =>
        milliseconds <= Base ? 0 : Math.Min(Buckets - 1, (int)(Math.Log(milliseconds / Base) / LogFactor));

    public static double UpperEdge(int bucket) => Base * Math.Pow(1.25, bucket + 1);

    public static double? Percentile(long[] counts, double p)
    {
        long total = 0;
        foreach (var c in counts) total += c;
        if (total == 0) return null;
        var rank = (long)Math.Ceiling(p * total);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank) return Math.Round(UpperEdge(i), 3);
        }
        return Math.Round(UpperEdge(counts.Length - 1), 3);
    }
}

/// <summary>One version's counters for one UTC minute; written with Interlocked only.</summary>
public sealed class MinuteBucket(long minute, string role)
{
    public long Minute { get; } = minute;
    public string Role { get; set; } = role;
    public long Requests;
    public long Errors;
    public long ShadowCompared;
    public long ShadowAgreed;
    public long ShadowDropped;
    public readonly long[] Histogram = new long[LatencyHistogram.Buckets];

    public DateTime MinuteUtc => DateTime.UnixEpoch.AddMinutes(Minute);
}

/// <summary>
/// The hot path's counters: per version, the current minute's bucket (swapped when the minute turns;
/// the finished one waits for the flusher). No lock on the recording path.
/// </summary>
public sealed class ServingMeters(TimeProvider clock)
{
    private sealed class VersionMeter
    {
        public MinuteBucket? Current;
        public readonly ConcurrentQueue<MinuteBucket> Finished = new();
    }

    private readonly ConcurrentDictionary<int, VersionMeter> _meters = new();

    private long NowMinute => clock.GetUtcNow().ToUnixTimeSeconds() / 60;

    private MinuteBucket Bucket(int versionId, string role)
    {
        var meter = _meters.GetOrAdd(versionId, static _ => new VersionMeter());
        var minute = NowMinute;
        var current = Volatile.Read(ref meter.Current);
        if (current is not null && current.Minute == minute) return current;
        var fresh = new MinuteBucket(minute, role);
        var seen = Interlocked.CompareExchange(ref meter.Current, fresh, current);
        if (ReferenceEquals(seen, current))
        {
            if (current is not null) meter.Finished.Enqueue(current);
            return fresh;
        }
        return seen!;
    }

    /// <summary>One request answered (or refused) by the version's path.</summary>
    public void Record(int versionId, string role, double milliseconds, bool error)
    {
        var bucket = Bucket(versionId, role);
        if (role != ServingRoles.Shadow) bucket.Role = role;
        Interlocked.Increment(ref bucket.Requests);
        if (error) Interlocked.Increment(ref bucket.Errors);
        Interlocked.Increment(ref bucket.Histogram[LatencyHistogram.BucketOf(milliseconds)]);
    }

    /// <summary>Rows the shadow version answered, and how many of them agreed with the answer that was returned.</summary>
    public void RecordShadow(int shadowVersionId, int compared, int agreed)
    {
        var bucket = Bucket(shadowVersionId, ServingRoles.Shadow);
        Interlocked.Add(ref bucket.ShadowCompared, compared);
        Interlocked.Add(ref bucket.ShadowAgreed, agreed);
    }

    public void RecordShadowDropped(int shadowVersionId) =>
        Interlocked.Increment(ref Bucket(shadowVersionId, ServingRoles.Shadow).ShadowDropped);

    /// <summary>The buckets to write: each version's finished minutes (taken) and its current one (left in place).</summary>
    public IReadOnlyList<(int VersionId, MinuteBucket Bucket)> TakeForFlush()
    {
        var list = new List<(int, MinuteBucket)>();
        foreach (var (id, meter) in _meters)
        {
            while (meter.Finished.TryDequeue(out var done)) list.Add((id, done));
            if (Volatile.Read(ref meter.Current) is { } current) list.Add((id, current));
        }
        return list;
    }

    /// <summary>Total shadow requests dropped because the queue was full, since start.</summary>
    public long ShadowDroppedTotal;
}
