namespace ModelOps.Portal.Datasets;

/// <summary>Byte counting for an upload that spans one or more browser files, with throttled re-rendering.</summary>
public sealed class UploadProgress(long totalBytes, Func<Task> refresh)
{
    private readonly List<long> readPerStream = [];
    private long lastRefreshTicks;

    public long TotalBytes { get; } = Math.Max(1, totalBytes);

    public long ReadBytes
    {
        get { lock (readPerStream) return readPerStream.Sum(); }
    }

    public double Percent => Math.Round(Math.Min(100, 100.0 * ReadBytes / TotalBytes), 1);

    /// <summary>Wraps one file's stream so that what is read from it counts towards the total.</summary>
    public Stream Track(Stream stream)
    {
        int slot;
        lock (readPerStream)
        {
            slot = readPerStream.Count;
            readPerStream.Add(0);
        }
        return new ProgressReadStream(stream, read =>
        {
            lock (readPerStream) readPerStream[slot] = read;
            var now = Environment.TickCount64;
            if (now - Interlocked.Read(ref lastRefreshTicks) > 200)
            {
                Interlocked.Exchange(ref lastRefreshTicks, now);
                _ = refresh();
            }
        });
    }
}
