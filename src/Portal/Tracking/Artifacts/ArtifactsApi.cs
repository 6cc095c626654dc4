using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Tracking.Artifacts;

/// <summary>
/// Run artifacts over REST (docs/tracking.md, "Artifacts"): any file a run wants to keep, under a
/// relative path of its choosing. The path is checked by <see cref="ArtifactPath"/> before anything
/// else; the bytes are kept by <see cref="ArtifactStore"/>; run_artifacts is the record.
/// </summary>
public static class ArtifactsApi
{
    public static RouteGroupBuilder MapArtifactsApi(this RouteGroupBuilder api)
    {
        var artifacts = api.MapGroup("/runs/{id:int}/artifacts").WithTags("Artifacts");
        artifacts.MapGet("", List);
        artifacts.MapPut("/{**path}", Upload).DisableAntiforgery();
        artifacts.MapGet("/{**path}", Download);
        return api;
    }

    public static async Task<IResult> Upload(int id, string? path, HttpContext http, PortalDb db, ArtifactStore store, WriteGate gate,
        IOptions<PortalOptions> options, CancellationToken ct)
    {
        var normalized = CheckPath(http, path);
        await RunAccess.ForWriteAsync(http, db, id, ct);
        // Kestrel's default body limit (about 30 MB) would refuse a larger model; ours is the configured one.
        var limit = options.Value.MaxUploadBytes;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = limit;
        if (http.Request.ContentLength > limit)
            throw new PortalException(PortalError.TooLarge, $"The artifact is larger than the upload limit ({limit:N0} bytes).");

        await using var staged = await store.StageAsync(id, normalized, http.Request.Body, ct);
        var artifact = staged.Info;
        // The rename and the row happen under the write gate together, so two uploads of one path
        // cannot leave the file of one and the record of the other.
        await using (await gate.EnterAsync(db, ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT OR REPLACE INTO run_artifacts (RunId, Path, SizeBytes, Sha256, CreatedAt)
                VALUES ({id}, {artifact.Path}, {artifact.SizeBytes}, {artifact.Sha256}, {StoredTime(artifact.CreatedAt)})
                """, ct);
            staged.Commit();
            // The file is in place now: keep its record even if the client has gone away meanwhile.
            await tx.CommitAsync(CancellationToken.None);
        }
        return TypedResults.Created(Location(id, artifact.Path), artifact);
    }

    public static async Task<IResult> Download(int id, string? path, HttpContext http, PortalDb db, ArtifactStore store, CancellationToken ct)
    {
        var normalized = CheckPath(http, path);
        await RunAccess.ForReadAsync(http, db, id, ct);
        var stream = store.OpenRead(id, normalized);
        // An uploaded .html or .svg must never render as the portal's own page.
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Stream(stream, "application/octet-stream", normalized[(normalized.LastIndexOf('/') + 1)..], enableRangeProcessing: true);
    }

    public static async Task<IReadOnlyList<ArtifactInfo>> List(int id, HttpContext http, PortalDb db, string? prefix = null, CancellationToken ct = default)
    {
        var start = NormalizePrefix(prefix);
        await RunAccess.ForReadAsync(http, db, id, ct);
        // substr and length both count characters, so the prefix test holds for any text (LIKE would
        // need escaping and ignores ASCII case).
        return await db.RunArtifacts.FromSql($"""
                SELECT * FROM run_artifacts WHERE RunId = {id} AND substr(Path, 1, length({start})) = {start}
                """)
            .AsNoTracking()
            .OrderBy(a => a.Path)
            .Select(a => new ArtifactInfo(a.Path, a.SizeBytes, a.Sha256, a.CreatedAt))
            .ToListAsync(ct);
    }

    /// <summary>
    /// Kestrel resolves "." and ".." segments (after decoding %2E) before routing, so "x/../y" reaches
    /// this route as "y", and ".." climbing above it reaches another route or none. A client who sent
    /// one asked for something other than the path we were handed: refuse rather than guess.
    /// </summary>
    private static string CheckPath(HttpContext http, string? path)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(raw))
        {
            var end = raw.AsSpan().IndexOfAny('?', '#');
            var target = Uri.UnescapeDataString(end < 0 ? raw : raw[..end]);
            if (target.Split('/', '\\').Any(segment => segment is "." or ".."))
                throw PortalException.Invalid($"The request URL contains a '.' or '..' segment; artifact paths may not climb out of a folder.", "path");
        }
        return ArtifactPath.Normalize(path);
    }

    private static string NormalizePrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix)) return "";
        if (prefix.Length > ArtifactPath.MaxLength)
            throw PortalException.Invalid($"The prefix is {prefix.Length} characters long; the limit is {ArtifactPath.MaxLength}.", "prefix");
        if (prefix.IndexOf('\0') is var nul and >= 0)
            throw PortalException.Invalid($"The prefix contains a NUL character at position {nul + 1}.", "prefix");
        try
        {
            // Stored paths are NFC; a prefix typed in another form must still find them.
            return prefix.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            throw PortalException.Invalid($"The prefix is not valid Unicode.", "prefix");
        }
    }

    private static string Location(int runId, string path) =>
        $"/api/v1/runs/{runId}/artifacts/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}";

    /// <summary>EF Core's SQLite text form of a UTC time, as every other table stores it.</summary>
    private static string StoredTime(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
}
