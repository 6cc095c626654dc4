using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Datasets;

/// <summary>A version's profile as one viewer sees it: the sensitive columns flagged, their values masked unless <see cref="Masked"/> is false.</summary>
public sealed record ViewedProfile(DatasetProfile Profile, IReadOnlySet<string> Sensitive, bool Masked);

/// <summary>How a stored file is served: raw, or with these columns (name, detected kind) masked.</summary>
public sealed record FileMasking(bool Raw, IReadOnlyDictionary<string, string?> Columns);

/// <summary>
/// Sensitive columns: which they are, who may see their raw values, and the audit trail of raw views and
/// downloads. A column is sensitive when it is marked sensitive, or when the upload's check flagged it as
/// personal data (<see cref="ColumnProfile.PersonalData"/>) and it is not marked not-sensitive. Marks are
/// per dataset and column name, so they hold for every version. Whether raw values are shown is asked of
/// <see cref="IRawDataAccess"/> every time; the one exception is the training worker of a run on the very
/// version it downloads (a process, not a person: it must train on the real data; the download is still audited).
/// </summary>
public sealed class DatasetPrivacy(IDbContextFactory<PortalDb> dbs, IRawDataAccess access, CurrentUser user, IHttpContextAccessor http)
{
    public const string MarkedAction = "dataset.column.marked";
    public const string RawViewedAction = "dataset.raw.viewed";
    public const string RawDownloadedAction = "dataset.raw.downloaded";

    /// <summary>The sensitive columns of <paramref name="profile"/> under a dataset's <paramref name="marks"/> (column → sensitive).</summary>
    public static IReadOnlySet<string> Sensitive(DatasetProfile profile, IReadOnlyDictionary<string, bool> marks) =>
        profile.Columns
            .Where(c => marks.TryGetValue(c.Name, out var marked) ? marked : c.PersonalData is not null)
            .Select(c => c.Name)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The names of the sensitive columns of version <paramref name="version"/> of dataset <paramref name="datasetId"/>.</summary>
    public async Task<IReadOnlySet<string>> SensitiveColumnsAsync(int datasetId, int version, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var v = await db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(x => x.DatasetId == datasetId && x.Version == version, ct)
            ?? throw PortalException.NotFound($"Dataset {datasetId} version {version}");
        return Sensitive(DatasetIngest.ReadProfile(v), await MarksAsync(db, datasetId, ct));
    }

    /// <summary>The marks of each of <paramref name="datasetIds"/> (column → sensitive).</summary>
    public async Task<IReadOnlyDictionary<int, IReadOnlyDictionary<string, bool>>> MarksAsync(IReadOnlyCollection<int> datasetIds, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var rows = await db.DatasetSensitiveColumns.AsNoTracking().Where(m => datasetIds.Contains(m.DatasetId)).ToListAsync(ct);
        return datasetIds.Distinct().ToDictionary(id => id, id => (IReadOnlyDictionary<string, bool>)rows.Where(r => r.DatasetId == id)
            .ToDictionary(r => r.Column, r => r.Sensitive, StringComparer.Ordinal));
    }

    private static async Task<Dictionary<string, bool>> MarksAsync(PortalDb db, int datasetId, CancellationToken ct) =>
        await db.DatasetSensitiveColumns.AsNoTracking().Where(m => m.DatasetId == datasetId)
            .ToDictionaryAsync(m => m.Column, m => m.Sensitive, StringComparer.Ordinal, ct);

    /// <summary>Whether the person acting may see raw values of dataset <paramref name="datasetId"/> and mark its columns (asks <see cref="IRawDataAccess"/>).</summary>
    public Task<bool> MaySeeRawAsync(int datasetId, CancellationToken ct = default) => access.MaySeeRawAsync(datasetId, ct);

    /// <summary>
    /// Marks <paramref name="column"/> of a dataset sensitive or not sensitive, for all its versions; the column
    /// must be one of the latest version's. Audited.
    /// </summary>
    public async Task<SensitiveColumnView> MarkAsync(int datasetId, string column, bool sensitive, string actor, CancellationToken ct = default)
    {
        var name = (column ?? "").Trim();
        await using var db = await dbs.CreateDbContextAsync(ct);
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == datasetId, ct)
            ?? throw PortalException.NotFound($"Dataset {datasetId}");
        var latest = await db.DatasetVersions.AsNoTracking().Where(v => v.DatasetId == datasetId).OrderByDescending(v => v.Version).FirstOrDefaultAsync(ct)
            ?? throw PortalException.NotFound($"Dataset {datasetId}");
        if (latest.Kind == DatasetKinds.Idx)
            throw PortalException.Invalid($"Dataset '{dataset.Name}' holds images; only the columns of a CSV dataset can be marked sensitive.", "column");
        var profile = DatasetIngest.ReadProfile(latest);
        var columns = profile.Columns.Select(c => c.Name).ToList();
        if (!columns.Contains(name, StringComparer.Ordinal))
            throw PortalException.Invalid(
                $"Column '{CsvInspector.Truncate(name)}' is not a column of dataset '{dataset.Name}' (v{latest.Version}); the columns are: {string.Join(", ", columns.Select(c => CsvInspector.Truncate(c)))}.",
                "column");
        var now = DateTime.UtcNow;
        var mark = await db.DatasetSensitiveColumns.FirstOrDefaultAsync(m => m.DatasetId == datasetId && m.Column == name, ct);
        if (mark is null)
            db.DatasetSensitiveColumns.Add(new DatasetSensitiveColumn { DatasetId = datasetId, Column = name, Sensitive = sensitive, MarkedBy = actor, MarkedAt = now });
        else
            (mark.Sensitive, mark.MarkedBy, mark.MarkedAt) = (sensitive, actor, now);
        db.AuditEvents.Add(new AuditEvent
        {
            At = now, Actor = actor, Action = MarkedAction, Subject = $"dataset:{dataset.Name}",
            Details = sensitive ? $"{name}: sensitive" : $"{name}: not sensitive",
        });
        await db.SaveChangesAsync(ct);
        return new SensitiveColumnView(name, sensitive, profile.Columns.First(c => c.Name == name).PersonalData);
    }

    /// <summary>
    /// The profiles of <paramref name="versions"/> of <paramref name="dataset"/> as the person acting sees them:
    /// sensitive columns flagged, and masked unless <see cref="IRawDataAccess"/> allows raw values. With
    /// <paramref name="maskAlways"/> nobody is asked and everything sensitive is masked (lists, pages before
    /// they are live). Each version shown raw that has sensitive columns is audited when <paramref name="auditRaw"/>.
    /// </summary>
    public async Task<IReadOnlyList<ViewedProfile>> ViewAsync(
        Dataset dataset, IReadOnlyList<DatasetVersion> versions, CancellationToken ct = default, bool maskAlways = false, bool auditRaw = true,
        IReadOnlyDictionary<string, bool>? marks = null)
    {
        if (marks is null)
        {
            await using var db = await dbs.CreateDbContextAsync(ct);
            marks = await MarksAsync(db, dataset.Id, ct);
        }
        var views = new List<ViewedProfile>(versions.Count);
        bool? raw = null;
        var shownRaw = new List<(DatasetVersion Version, IReadOnlySet<string> Sensitive)>();
        foreach (var v in versions)
        {
            var profile = DatasetIngest.ReadProfile(v);
            var sensitive = Sensitive(profile, marks);
            var flagged = profile with { Columns = profile.Columns.Select(c => c with { Sensitive = sensitive.Contains(c.Name) }).ToList() };
            if (sensitive.Count == 0)
            {
                views.Add(new ViewedProfile(flagged, sensitive, false));
                continue;
            }
            raw ??= !maskAlways && await access.MaySeeRawAsync(dataset.Id, ct);
            if (raw.Value)
            {
                shownRaw.Add((v, sensitive));
                views.Add(new ViewedProfile(flagged, sensitive, false));
            }
            else
            {
                views.Add(new ViewedProfile(Masking.MaskProfile(flagged, sensitive), sensitive, true));
            }
        }
        if (auditRaw && shownRaw.Count > 0)
            await AuditAsync(shownRaw.Select(s => (RawViewedAction, $"dataset:{dataset.Name}:v{s.Version.Version}", Details(s.Sensitive))).ToList(), ct);
        return views;
    }

    /// <summary>
    /// How <paramref name="file"/> of <paramref name="version"/> is downloaded by the caller: raw (audited when the
    /// version has sensitive columns) or with the sensitive columns masked. Only data.csv has columns.
    /// </summary>
    public async Task<FileMasking> ForDownloadAsync(Dataset dataset, DatasetVersion version, string file, CancellationToken ct = default)
    {
        var none = new Dictionary<string, string?>();
        if (file != DatasetFileRoles.Csv) return new FileMasking(true, none);
        var profile = DatasetIngest.ReadProfile(version);
        Dictionary<string, bool> marks;
        await using (var db = await dbs.CreateDbContextAsync(ct))
            marks = await MarksAsync(db, dataset.Id, ct);
        var sensitive = Sensitive(profile, marks);
        if (sensitive.Count == 0) return new FileMasking(true, none);
        var subject = $"dataset:{dataset.Name}:v{version.Version}";
        if (await TrainingWorkerOfAsync(version, ct) is { } runId)
        {
            await AuditAsync([(RawDownloadedAction, subject, $"by the training worker of run {runId}; {Details(sensitive)}")], ct);
            return new FileMasking(true, none);
        }
        if (await access.MaySeeRawAsync(dataset.Id, ct))
        {
            await AuditAsync([(RawDownloadedAction, subject, Details(sensitive))], ct);
            return new FileMasking(true, none);
        }
        return new FileMasking(false, profile.Columns.Where(c => sensitive.Contains(c.Name)).ToDictionary(c => c.Name, c => c.PersonalData, StringComparer.Ordinal));
    }

    /// <summary>The run whose current attempt's worker token made this request, when that run trains on <paramref name="version"/>.</summary>
    private async Task<int?> TrainingWorkerOfAsync(DatasetVersion version, CancellationToken ct)
    {
        if (Tracking.Caller.Of(http.HttpContext) is not { Kind: Tracking.CallerKind.Worker, RunId: { } runId }) return null;
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Runs.AnyAsync(r => r.Id == runId && r.DatasetVersionId == version.Id, ct) ? runId : null;
    }

    private static string Details(IReadOnlySet<string> sensitive) =>
        $"sensitive: {string.Join(", ", sensitive.Order(StringComparer.Ordinal))}";

    private async Task AuditAsync(IReadOnlyList<(string Action, string Subject, string Details)> rows, CancellationToken ct)
    {
        var actor = user.Name;
        await using var db = await dbs.CreateDbContextAsync(ct);
        foreach (var (action, subject, details) in rows)
            db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = actor, Action = action, Subject = subject, Details = details });
        await db.SaveChangesAsync(ct);
    }
}
