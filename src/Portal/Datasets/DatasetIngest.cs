using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Datasets;

public sealed record NamedStream(string FileName, Stream Content);

public sealed record IdxUpload(
    NamedStream TrainImages, NamedStream TrainLabels, NamedStream? TestImages, NamedStream? TestLabels,
    IReadOnlyList<string>? ClassNames);

/// <summary>
/// Turns an upload into an immutable dataset version: stream to a private temp folder (hashing and
/// enforcing the size limit on the way), validate and profile, then move the folder into place and
/// insert the row in one transaction. Any failure deletes the temp folder: nothing half-written stays.
/// </summary>
public sealed class DatasetIngest(PortalDb db, WriteGate gate, DataPaths paths, IOptions<PortalOptions> options, CurrentUser user, ILogger<DatasetIngest> log,
    IServiceProvider services)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A tabular CSV; or, with <paramref name="textColumn"/>, a text dataset (kind text) whose documents are in that column.</summary>
    public Task<DatasetVersion> IngestCsvAsync(string datasetName, string? labelColumn, string fileName, Stream content, CancellationToken ct, string? textColumn = null) =>
        IngestCsvAsync(datasetName, fileName, content, new CsvUploadOptions { LabelColumn = labelColumn, TextColumn = textColumn }, ct);

    /// <summary>
    /// A CSV read as <paramref name="options"/> says. When line 1 is not a header (or names are given) the
    /// stored data.csv gets a header line with the columns' names and the data rows, so everything
    /// downstream reads named columns; its size and SHA-256 are the stored file's.
    /// </summary>
    public async Task<DatasetVersion> IngestCsvAsync(string datasetName, string fileName, Stream content, CsvUploadOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var name = Names.Dataset(datasetName);
        var original = Names.UploadedFile(fileName);
        var staging = NewStagingFolder();
        try
        {
            var (csv, size, sha, profile) = await StageCsvAsync(staging, original, content, options, ct);
            if (options.RewritesHeader)
            {
                var raw = Path.Combine(staging, "upload.tmp");
                File.Move(csv, raw);
                CsvInspector.WriteWithHeader(raw, csv, profile.Columns.Select(c => c.Name).ToList(), options.Header);
                File.Delete(raw);
                (size, sha) = await HashFileAsync(csv, ct);
            }
            return await CommitAsync(name, profile.Kind, profile.LabelColumn, profile, staging, original, size, sha, ct);
        }
        finally
        {
            TryDelete(staging);
        }
    }

    /// <summary>
    /// Checks and profiles a CSV as <see cref="IngestCsvAsync(string, string, Stream, CsvUploadOptions, CancellationToken)"/>
    /// would, and stores nothing: the columns' names (generated ones too), types, missing counts and the
    /// first rows, for a preview before the upload is committed. Refusals are the same.
    /// </summary>
    public async Task<DatasetProfile> PreviewCsvAsync(string fileName, Stream content, CsvUploadOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var original = Names.UploadedFile(fileName);
        var staging = NewStagingFolder();
        try
        {
            return (await StageCsvAsync(staging, original, content, options, ct)).Profile;
        }
        finally
        {
            TryDelete(staging);
        }
    }

    private async Task<(string Csv, long Size, string Sha256, DatasetProfile Profile)> StageCsvAsync(
        string staging, string original, Stream content, CsvUploadOptions options, CancellationToken ct)
    {
        var csv = Path.Combine(staging, DatasetFileRoles.Csv);
        var (size, sha) = await CopyLimitedAsync(content, csv, ct);
        // The engine reads comma-separated files; a tab-separated one would profile as one column.
        if (original.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) || LooksTabSeparated(csv))
            throw new PortalException(PortalError.Unprocessable, $"Tab-separated files are not supported yet; save the file as comma-separated CSV.", "file");
        return (csv, size, sha, CsvInspector.Inspect(csv, options));
    }

    private static async Task<(long Size, string Sha256)> HashFileAsync(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        return (stream.Length, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct)));
    }

    public async Task<DatasetVersion> IngestIdxAsync(string datasetName, IdxUpload upload, CancellationToken ct)
    {
        var name = Names.Dataset(datasetName);
        if ((upload.TestImages is null) != (upload.TestLabels is null))
            throw PortalException.Invalid($"Give both test files (images and labels) or neither.", "file");
        var parts = new List<(string Role, NamedStream File)>
        {
            (DatasetFileRoles.TrainImages, upload.TrainImages),
            (DatasetFileRoles.TrainLabels, upload.TrainLabels),
        };
        if (upload.TestImages is not null) parts.Add((DatasetFileRoles.TestImages, upload.TestImages));
        if (upload.TestLabels is not null) parts.Add((DatasetFileRoles.TestLabels, upload.TestLabels));
        foreach (var part in parts) Names.UploadedFile(part.File.FileName);

        var staging = NewStagingFolder();
        try
        {
            long total = 0;
            using var combined = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var (role, file) in parts)
            {
                var (size, sha) = await CopyLimitedAsync(file.Content, Path.Combine(staging, role), ct, total);
                total += size;
                combined.AppendData(Convert.FromHexString(sha));
            }
            var profile = ProfileIdx(staging, upload.ClassNames);
            var originals = string.Join(", ", parts.Select(p => p.File.FileName));
            return await CommitAsync(name, DatasetKinds.Idx, null, profile, staging, originals, total,
                Convert.ToHexStringLower(combined.GetHashAndReset()), ct);
        }
        finally
        {
            TryDelete(staging);
        }
    }

    public static DatasetProfile ReadProfile(DatasetVersion version) =>
        JsonSerializer.Deserialize<DatasetProfile>(version.ProfileJson, Json)
        ?? throw new InvalidOperationException($"Dataset version {version.Id} has no profile.");

    private static DatasetProfile ProfileIdx(string folder, IReadOnlyList<string>? classNames)
    {
        var (images, _) = IdxFile.Validate(Path.Combine(folder, DatasetFileRoles.TrainImages), ErrorMessage.Of($"training image file"), labels: false);
        var (labels, counts) = IdxFile.Validate(Path.Combine(folder, DatasetFileRoles.TrainLabels), ErrorMessage.Of($"training label file"), labels: true);
        if (images.Count != labels.Count)
            throw new PortalException(PortalError.Unprocessable, $"The training image file holds {images.Count} images but the label file holds {labels.Count} labels.", "file");
        int? testRows = null;
        if (File.Exists(Path.Combine(folder, DatasetFileRoles.TestImages)))
        {
            var (testImages, _) = IdxFile.Validate(Path.Combine(folder, DatasetFileRoles.TestImages), ErrorMessage.Of($"test image file"), labels: false);
            var (testLabels, testCounts) = IdxFile.Validate(Path.Combine(folder, DatasetFileRoles.TestLabels), ErrorMessage.Of($"test label file"), labels: true);
            if (testImages.Count != testLabels.Count)
                throw new PortalException(PortalError.Unprocessable, $"The test image file holds {testImages.Count} images but the label file holds {testLabels.Count} labels.", "file");
            for (var i = 0; i < 256; i++)
                if (testCounts[i] > 0 && counts[i] == 0)
                    throw new PortalException(PortalError.Unprocessable, $"The test labels use class {i}, which no training image has.", "file");
            testRows = testImages.Count;
        }
        var classes = Enumerable.Range(0, 256).Where(i => counts[i] > 0).ToArray();
        if (classes.Length < 2)
            throw new PortalException(PortalError.Unprocessable, $"The training labels hold fewer than two classes.", "file");
        var classCount = classes[^1] + 1;
        if (classNames is { Count: > 0 } && classNames.Count < classCount)
            throw PortalException.Invalid($"{classNames.Count} class names were given for {classCount} classes.", "classNames");
        if (classNames is { Count: > 0 } && classNames.Select(n => n.Trim()).Distinct(StringComparer.Ordinal).Count() != classNames.Count)
            throw PortalException.Invalid($"The class names must all be different.", "classNames");
        var names = Enumerable.Range(0, classCount)
            .Select(i => classNames is { Count: > 0 } ? classNames[i].Trim() : i.ToString()).ToList();
        var classCounts = Enumerable.Range(0, classCount).ToDictionary(i => names[i], i => counts[i]);
        return new DatasetProfile(DatasetKinds.Idx, images.Count,
            [new ColumnProfile("image", "image 28x28", 0, 0, 0, 255, null, null), new ColumnProfile("label", "label", 0, classes.Length, null, null, null, null)],
            "label", classCounts, [], names, testRows, [1, 28, 28]);
    }

    private async Task<DatasetVersion> CommitAsync(
        string name, string kind, string? labelColumn, DatasetProfile profile, string staging,
        string originalFileName, long size, string sha, CancellationToken ct)
    {
        var actor = user.Name;
        await using var writing = await gate.EnterAsync(db, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var dataset = await db.Datasets.FirstOrDefaultAsync(d => d.Name == name, ct);
        // A signed-in caller needs Editor in the dataset's team, or in the team they work in for a new one;
        // the portal's own callers (the demo seed) have no principal and write to the default team.
        var access = services.GetRequiredService<Identity.Access>();
        if (dataset is not null && user.Principal is not null)
            await access.RequireAsync(dataset.TeamId, Identity.TeamRole.Editor, $"Dataset {name}", ct);
        if (dataset is null)
        {
            var team = user.Principal is null ? Identity.Team.DefaultId : await access.TeamToWriteAsync(Identity.TeamRole.Editor, ct);
            dataset = new Dataset { Name = name, TeamId = team, CreatedAt = DateTime.UtcNow, CreatedBy = actor };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(ct);
        }
        var next = 1 + (await db.DatasetVersions.Where(v => v.DatasetId == dataset.Id).MaxAsync(v => (int?)v.Version, ct) ?? 0);
        var relative = paths.DatasetVersionRelative(dataset.Id, next);
        var final = paths.Resolve(relative);
        if (Directory.Exists(final))
            Directory.Delete(final, recursive: true); // left by a crash between move and commit: the row never existed
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        Directory.Move(staging, final);
        try
        {
            var version = new DatasetVersion
            {
                DatasetId = dataset.Id,
                Version = next,
                Kind = kind,
                LabelColumn = labelColumn,
                Rows = profile.Rows,
                SizeBytes = size,
                Sha256 = sha,
                ProfileJson = JsonSerializer.Serialize(profile, Json),
                StoragePath = relative,
                OriginalFileName = originalFileName,
                CreatedAt = DateTime.UtcNow,
                CreatedBy = actor,
            };
            db.DatasetVersions.Add(version);
            db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = actor, Action = "dataset.version.created", Subject = $"dataset:{name}:v{next}", TeamId = dataset.TeamId, Details = $"{profile.Rows} rows, sha256 {sha[..12]}" });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            log.LogInformation("Registered dataset {Name} v{Version} ({Rows} rows)", name, next, profile.Rows);
            await FireSchedulesAsync(dataset.Id, next);
            return version;
        }
        catch
        {
            TryDelete(final);
            throw;
        }
    }

    /// <summary>
    /// Schedules that retrain on new versions of this dataset fire now. The version is committed already,
    /// so a failure here is logged, never the upload's: the schedule can still be run by hand.
    /// </summary>
    private async Task FireSchedulesAsync(int datasetId, int version)
    {
        try
        {
            await services.GetRequiredService<Retraining.ScheduleService>().DatasetVersionAddedAsync(datasetId, version, CancellationToken.None);
        }
        catch (Exception ex)
        {
            log.LogError(ex, "Dataset {DatasetId} v{Version} is registered, but its schedules could not be fired", datasetId, version);
        }
    }

    private async Task<(long Size, string Sha256)> CopyLimitedAsync(Stream source, string target, CancellationToken ct, long alreadyCopied = 0)
    {
        var limit = options.Value.MaxUploadBytes;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (alreadyCopied + total > limit)
                throw new PortalException(PortalError.TooLarge, $"The upload is larger than the limit of {FormatBytes(limit)}.", "file");
            hash.AppendData(buffer, 0, read);
            await output.WriteAsync(buffer.AsMemory(0, read), ct);
        }
        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static bool LooksTabSeparated(string path)
    {
        using var reader = new StreamReader(path);
        var first = reader.ReadLine() ?? "";
        return first.Contains('\t') && !first.Contains(',');
    }

    private string NewStagingFolder() => DataPaths.Ensure(Path.Combine(paths.Temp, "upload-" + Guid.NewGuid().ToString("N")));

    private void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException ex)
        {
            log.LogWarning(ex, "Could not delete {Folder}", folder);
        }
    }

    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.##} KiB",
        _ => $"{bytes} bytes",
    };
}
