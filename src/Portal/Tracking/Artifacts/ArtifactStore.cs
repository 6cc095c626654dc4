using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Tracking.Artifacts;

/// <summary>An artifact as recorded: its normalised path, size, SHA-256 (lower-case hex) and when it was written (UTC).</summary>
public sealed record ArtifactInfo(string Path, long SizeBytes, string Sha256, DateTime CreatedAt);

/// <summary>
/// The files of run artifacts, under data/runs/{id}/artifacts. Paths come in normalised by
/// <see cref="ArtifactPath"/>; on top of that, nothing is read or written through a symbolic link
/// anywhere below the data folder, so a link planted inside a run's folder (by anyone with a shell)
/// cannot redirect the portal outside it. Writes stage in the run's own .modelops/tmp (same file
/// system) and appear at their path only whole, by an atomic rename. The database is the record of
/// what exists (run_artifacts); this class only keeps the bytes.
/// </summary>
public sealed class ArtifactStore(DataPaths paths, IOptions<PortalOptions> options)
{
    private static readonly TimeSpan StaleStaging = TimeSpan.FromDays(1);

    public string RunArtifactsRoot(int runId) => Path.Combine(paths.Root, "runs", Id(runId), "artifacts");

    /// <summary>Streams <paramref name="body"/> to the artifact's path, replacing an earlier version.</summary>
    public async Task<ArtifactInfo> WriteAsync(int runId, string normalizedPath, Stream body, CancellationToken ct)
    {
        await using var staged = await StageAsync(runId, normalizedPath, body, ct);
        staged.Commit();
        return staged.Info;
    }

    /// <summary>
    /// Streams <paramref name="body"/> to a staging file, hashing and counting it on the way; nothing is
    /// visible at the artifact's path until <see cref="StagedArtifact.Commit"/>. Lets a caller rename
    /// the file into place and record it in the database under one lock, so the two cannot disagree.
    /// </summary>
    public async Task<StagedArtifact> StageAsync(int runId, string normalizedPath, Stream body, CancellationToken ct)
    {
        RequireNormalized(normalizedPath);
        var staging = Descend(runId, [ArtifactPath.ReservedFolder, "tmp"], create: true)!;
        SweepStale(staging);
        var temp = Path.Combine(staging, Guid.NewGuid().ToString("N") + ".part");
        var limit = options.Value.MaxUploadBytes;
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            // CreateNew: O_EXCL, which also refuses to open through a symbolic link at that name.
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await body.ReadAsync(buffer, ct)) > 0)
                {
                    size += read;
                    if (size > limit)
                        throw new PortalException(PortalError.TooLarge, $"The artifact is larger than the upload limit ({limit:N0} bytes).");
                    sha.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                // The rename publishes the file; its bytes must be on disk before the name is.
                file.Flush(flushToDisk: true);
            }
            var info = new ArtifactInfo(normalizedPath, size, Convert.ToHexStringLower(sha.GetHashAndReset()), DateTime.UtcNow);
            return new StagedArtifact(this, runId, temp, info);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Moves a staged file to its artifact path; called by <see cref="StagedArtifact.Commit"/>.</summary>
    internal void Publish(int runId, string temp, string normalizedPath)
    {
        var segments = normalizedPath.Split('/');
        var folder = Descend(runId, segments[..^1], create: true)!;
        var target = Confine(runId, Path.Combine(folder, segments[^1]));
        var existing = new FileInfo(target);
        if (existing.LinkTarget is not null)
            throw ThroughLink(normalizedPath);
        if (Directory.Exists(target))
            throw new PortalException(PortalError.Conflict, $"'{normalizedPath}' is a folder of artifacts; it cannot also be a file.", "path");
        // rename(2): atomic, replaces an earlier version, and never follows a link at the target name.
        File.Move(temp, target, overwrite: true);
    }

    /// <summary>Opens an artifact for reading; 404 when there is none, 400 when its path passes through a link.</summary>
    public Stream OpenRead(int runId, string normalizedPath)
    {
        RequireNormalized(normalizedPath);
        var segments = normalizedPath.Split('/');
        var folder = Descend(runId, segments[..^1], create: false)
            ?? throw PortalException.NotFound($"Artifact '{normalizedPath}' of run {runId}");
        var target = Confine(runId, Path.Combine(folder, segments[^1]));
        var file = new FileInfo(target);
        if (file.LinkTarget is not null)
            throw ThroughLink(normalizedPath);
        if (!file.Exists)
            throw Directory.Exists(target)
                ? new PortalException(PortalError.NotFound, $"'{normalizedPath}' is a folder of artifacts of run {runId}, not a file; list it with ?prefix={normalizedPath}/.")
                : PortalException.NotFound($"Artifact '{normalizedPath}' of run {runId}");
        FileStream stream;
        try
        {
            stream = new FileStream(target, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw PortalException.NotFound($"Artifact '{normalizedPath}' of run {runId}");
        }
        try
        {
            VerifyOpened(stream, runId, normalizedPath);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return stream;
    }

    /// <summary>
    /// The checks above look before the open; a link swapped in between would still be followed. So
    /// on Linux, ask the kernel where the open file really is and require exactly the path we meant.
    /// </summary>
    private void VerifyOpened(FileStream stream, int runId, string normalizedPath)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = stream.SafeFileHandle.DangerousGetHandle().ToInt64();
        var opened = new FileInfo($"/proc/self/fd/{fd.ToString(CultureInfo.InvariantCulture)}").LinkTarget;
        if (opened is null) return; // no /proc (a restricted container): the checks before the open stand alone
        var expected = Path.Join(RealPath(paths.Root), "runs", Id(runId), "artifacts", normalizedPath);
        // A version replaced by a concurrent upload after we opened it is still the right file.
        if (opened != expected && opened != expected + " (deleted)")
            throw ThroughLink(normalizedPath);
    }

    /// <summary>
    /// Walks from the data folder down to the run's artifacts folder and on through
    /// <paramref name="below"/>, refusing any symbolic link on the way and creating missing folders
    /// when asked. Null when a folder is missing and <paramref name="create"/> is false.
    /// </summary>
    private string? Descend(int runId, ReadOnlySpan<string> below, bool create)
    {
        var current = paths.Root;
        string[] above = ["runs", Id(runId), "artifacts"];
        for (var i = 0; i < above.Length + below.Length; i++)
        {
            var name = i < above.Length ? above[i] : below[i - above.Length];
            current = Path.Combine(current, name);
            var shown = i < above.Length ? null : string.Join('/', below[..(i - above.Length + 1)].ToArray());
            PortalException Linked() => shown is null
                ? PortalException.Invalid($"The artifacts folder of run {runId} passes through a symbolic link; the portal does not follow links in its data folder.", "path")
                : ThroughLink(shown);
            var entry = new FileInfo(current);
            if (entry.LinkTarget is not null)
                throw Linked();
            if (entry.Exists)
                throw shown is null
                    ? new PortalException(PortalError.Conflict, $"The artifacts folder of run {runId} is blocked by a file.", "path")
                    : new PortalException(PortalError.Conflict, $"'{shown}' is an artifact file, so it cannot also be a folder of artifacts.", "path");
            if (Directory.Exists(current)) continue;
            if (!create) return null;
            Directory.CreateDirectory(current);
            // Narrow the window in which a link could be swapped in for the folder just made.
            if (new DirectoryInfo(current).LinkTarget is not null)
                throw Linked();
        }
        return current;
    }

    /// <summary>The last line of defence: the full path must lie strictly inside the run's artifacts folder.</summary>
    private string Confine(int runId, string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(RunArtifactsRoot(runId))) + Path.DirectorySeparatorChar;
        if (!full.StartsWith(root, StringComparison.Ordinal))
            throw PortalException.Invalid($"The artifact path leads outside the run's artifacts folder.", "path");
        return full;
    }

    /// <summary>Staging files of a process that was killed mid-upload; a day is far longer than any upload.</summary>
    private static void SweepStale(string staging)
    {
        foreach (var stale in new DirectoryInfo(staging).EnumerateFiles("*.part"))
        {
            if (DateTime.UtcNow - stale.LastWriteTimeUtc < StaleStaging) continue;
            try
            {
                stale.Delete();
            }
            catch (IOException)
            {
            }
        }
    }

    private static void RequireNormalized(string path)
    {
        if (!string.Equals(ArtifactPath.Normalize(path), path, StringComparison.Ordinal))
            throw PortalException.Invalid($"The artifact path is not in its normalised form.", "path");
    }

    /// <summary>realpath(3) in managed code: the data folder itself may sit behind a link an administrator made.</summary>
    private static string RealPath(string path)
    {
        var pending = new Stack<string>(Enumerable.Reverse(Path.GetFullPath(path).Split('/')));
        var current = "/";
        var hops = 0;
        while (pending.TryPop(out var name))
        {
            if (name is "" or ".") continue;
            if (name == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }
            var next = Path.Join(current, name);
            var link = new FileInfo(next).LinkTarget;
            if (link is null)
            {
                current = next;
                continue;
            }
            if (++hops > 40)
                throw new IOException($"Too many levels of symbolic links in {path}.");
            if (link.StartsWith('/')) current = "/";
            foreach (var part in Enumerable.Reverse(link.Split('/'))) pending.Push(part);
        }
        return current;
    }

    private static PortalException ThroughLink(string shown) =>
        PortalException.Invalid($"The artifact path '{shown}' is or passes through a symbolic link; the portal does not follow links in its data folder.", "path");

    private static string Id(int runId) => runId.ToString(CultureInfo.InvariantCulture);
}
