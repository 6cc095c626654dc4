using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Datasets;

/// <param name="Masked">The profile's values of sensitive columns (first rows, top values, min/max) are masked for this caller.</param>
public sealed record DatasetVersionView(
    int Id, int DatasetId, int Version, string Kind, string? LabelColumn, int Rows, long SizeBytes, string Sha256,
    string OriginalFileName, DateTime CreatedAt, string CreatedBy, DatasetProfile Profile, bool Masked = false);

public sealed record DatasetView(int Id, string Name, DateTime CreatedAt, string CreatedBy, IReadOnlyList<DatasetVersionView> Versions);

public sealed record SampleView(int Index, int ClassIndex, string Label, string ImageUrl);

public static class DatasetsApi
{
    private const int MaxSamples = 64;

    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder api)
    {
        var datasets = api.MapGroup("/datasets").WithTags("Datasets");
        datasets.MapGet("/", List);
        datasets.MapGet("/{id:int}", Get);
        datasets.MapPost("/csv", UploadCsv).DisableAntiforgery();
        datasets.MapPost("/csv/preview", PreviewCsv).DisableAntiforgery();
        datasets.MapPost("/idx", UploadIdx).DisableAntiforgery();
        datasets.MapGet("/{id:int}/versions/{version:int}/files/{name}", DownloadFile);
        datasets.MapGet("/{id:int}/versions/{version:int}/samples", Samples);
        datasets.MapGet("/{id:int}/versions/{version:int}/samples/{index:int}.png", SampleImage);
        datasets.MapPut("/{id:int}/columns/{column}/sensitive", SensitiveColumnsApi.Mark);
        return api;
    }

    /// <summary>The datasets of the caller's teams; sensitive columns are always masked here (raw values only through one dataset's GET, which is audited).</summary>
    public static async Task<IReadOnlyList<DatasetView>> List(PortalDb db, DatasetPrivacy privacy, Identity.Access access, CancellationToken ct)
    {
        var teams = await access.ListTeamsAsync(ct);
        var all = await db.Datasets.AsNoTracking().Include(d => d.Versions).Where(d => teams.Contains(d.TeamId)).OrderBy(d => d.Name).ToListAsync(ct);
        var marks = await privacy.MarksAsync(all.Select(d => d.Id).ToList(), ct);
        var views = new List<DatasetView>(all.Count);
        foreach (var d in all)
            views.Add(await ToViewAsync(d, privacy, ct, maskAlways: true, marks[d.Id]));
        return views;
    }

    public static async Task<DatasetView> Get(int id, PortalDb db, DatasetPrivacy privacy, CancellationToken ct) =>
        await ToViewAsync(await db.Datasets.AsNoTracking().Include(d => d.Versions).FirstOrDefaultAsync(d => d.Id == id, ct)
               ?? throw PortalException.NotFound($"Dataset {id}"), privacy, ct);

    /// <summary>
    /// multipart/form-data: name, labelColumn (optional; default: the last column), file; and for a text
    /// dataset kind=text with textColumn (default "text"), the column holding each example's text;
    /// header (optional): first (line 1 is the header; the default), skip (line 1 describes the file and is
    /// skipped) or data (no header); columnNames (optional): the columns' names, comma-separated or a JSON
    /// array; without a header they default to column_1, column_2, …. See docs/datasets.md.
    /// </summary>
    public static async Task<IResult> UploadCsv(HttpContext http, DatasetIngest ingest, IOptions<PortalOptions> options, CancellationToken ct)
    {
        var form = await ReadFormAsync(http, options.Value, ct);
        var file = form.Files.GetFile("file") ?? throw PortalException.Invalid($"The form needs a 'file' part holding the CSV.", "file");
        var csvOptions = CsvOptionsFrom(form);
        await using var stream = file.OpenReadStream();
        var version = await ingest.IngestCsvAsync(form["name"].ToString(), file.FileName, stream, csvOptions, ct);
        return TypedResults.Created($"/api/v1/datasets/{version.DatasetId}", ToView(version));
    }

    /// <summary>The same form as <see cref="UploadCsv"/> (name optional): the profile the upload would get, storing nothing.</summary>
    public static async Task<DatasetProfile> PreviewCsv(HttpContext http, DatasetIngest ingest, IOptions<PortalOptions> options, CancellationToken ct)
    {
        var form = await ReadFormAsync(http, options.Value, ct);
        var file = form.Files.GetFile("file") ?? throw PortalException.Invalid($"The form needs a 'file' part holding the CSV.", "file");
        var csvOptions = CsvOptionsFrom(form);
        await using var stream = file.OpenReadStream();
        return await ingest.PreviewCsvAsync(file.FileName, stream, csvOptions, ct);
    }

    private static CsvUploadOptions CsvOptionsFrom(IFormCollection form)
    {
        var kind = form["kind"].ToString().Trim();
        var textColumn = form["textColumn"].ToString().Trim();
        if (kind.Length == 0) kind = textColumn.Length > 0 ? DatasetKinds.Text : DatasetKinds.Csv;
        if (kind is not (DatasetKinds.Csv or DatasetKinds.Text))
            throw PortalException.Invalid($"Kind '{kind}' is not one a CSV upload can have; use 'csv' (tabular) or 'text'.", "kind");
        if (kind == DatasetKinds.Csv && textColumn.Length > 0)
            throw PortalException.Invalid($"A text column was given for a tabular (kind csv) upload; send kind=text.", "textColumn");
        var label = form["labelColumn"].ToString();
        return new CsvUploadOptions
        {
            LabelColumn = string.IsNullOrWhiteSpace(label) ? null : label,
            TextColumn = kind == DatasetKinds.Text ? (textColumn.Length > 0 ? textColumn : "text") : null,
            Header = HeaderModeFrom(form["header"].ToString()),
            ColumnNames = ColumnNamesFrom(form["columnNames"].ToString()),
        };
    }

    /// <summary>first | skip | data, or the <see cref="CsvHeaderMode"/> names; empty is first.</summary>
    internal static CsvHeaderMode HeaderModeFrom(string value)
    {
        var v = value.Trim();
        if (v.Length == 0) return CsvHeaderMode.FirstRowIsHeader;
        if (v.Equals("first", StringComparison.OrdinalIgnoreCase) || v.Equals("header", StringComparison.OrdinalIgnoreCase)) return CsvHeaderMode.FirstRowIsHeader;
        if (v.Equals("skip", StringComparison.OrdinalIgnoreCase)) return CsvHeaderMode.SkipFirstRow;
        if (v.Equals("data", StringComparison.OrdinalIgnoreCase) || v.Equals("none", StringComparison.OrdinalIgnoreCase)) return CsvHeaderMode.FirstRowIsData;
        if (Enum.TryParse<CsvHeaderMode>(v, ignoreCase: true, out var mode) && Enum.IsDefined(mode) && !v.All(char.IsDigit)) return mode;
        throw PortalException.Invalid($"Header option '{CsvInspector.Truncate(v)}' is unknown; use first (line 1 is the header), skip (line 1 describes the file; the data starts on line 2) or data (there is no header line).", "header");
    }

    /// <summary>Comma-separated names, or a JSON array of strings (for names that hold commas); empty is none.</summary>
    internal static IReadOnlyList<string>? ColumnNamesFrom(string value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (value.TrimStart().StartsWith('['))
        {
            try
            {
                return System.Text.Json.JsonSerializer.Deserialize<string[]>(value)
                    ?? throw PortalException.Invalid($"The column names '{CsvInspector.Truncate(value)}' are not a JSON array of strings.", "columnNames");
            }
            catch (System.Text.Json.JsonException)
            {
                throw PortalException.Invalid($"The column names '{CsvInspector.Truncate(value)}' are not a JSON array of strings.", "columnNames");
            }
        }
        return value.Split(',', StringSplitOptions.TrimEntries);
    }

    /// <summary>multipart/form-data: name, classNames (optional, comma-separated), trainImages, trainLabels, testImages?, testLabels?.</summary>
    public static async Task<IResult> UploadIdx(HttpContext http, DatasetIngest ingest, IOptions<PortalOptions> options, CancellationToken ct)
    {
        var form = await ReadFormAsync(http, options.Value, ct);
        NamedStream? Part(string field, bool required)
        {
            var f = form.Files.GetFile(field);
            if (f is null && required) throw PortalException.Invalid($"The form needs a '{field}' file part.", field);
            return f is null ? null : new NamedStream(f.FileName, f.OpenReadStream());
        }
        var classNames = form["classNames"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var upload = new IdxUpload(Part("trainImages", true)!, Part("trainLabels", true)!, Part("testImages", false), Part("testLabels", false),
            classNames.Length > 0 ? classNames : null);
        try
        {
            var version = await ingest.IngestIdxAsync(form["name"].ToString(), upload, ct);
            return TypedResults.Created($"/api/v1/datasets/{version.DatasetId}", ToView(version));
        }
        finally
        {
            foreach (var s in new[] { upload.TrainImages, upload.TrainLabels, upload.TestImages, upload.TestLabels })
                if (s is not null) await s.Content.DisposeAsync();
        }
    }

    /// <summary>A stored file; data.csv with its sensitive columns masked unless the caller may see raw values (then audited).</summary>
    public static async Task<IResult> DownloadFile(int id, int version, string name, PortalDb db, DataPaths paths, DatasetPrivacy privacy, CancellationToken ct)
    {
        var v = await FindVersion(db, id, version, ct);
        if (!DatasetFileRoles.All.Contains(name))
            throw PortalException.Invalid($"'{name}' is not a dataset file name; the files are {string.Join(", ", DatasetFileRoles.All)}.", "name");
        var path = Path.Combine(paths.Resolve(v.StoragePath), name);
        if (!File.Exists(path))
            throw PortalException.NotFound($"File '{name}' of dataset {id} v{version}");
        var dataset = await db.Datasets.AsNoTracking().FirstAsync(d => d.Id == id, ct);
        var masking = await privacy.ForDownloadAsync(dataset, v, name, ct);
        if (!masking.Raw)
            return TypedResults.Stream(output => Masking.WriteMaskedCsvAsync(path, masking.Columns, output, ct), "application/octet-stream", name);
        return TypedResults.PhysicalFile(path, "application/octet-stream", name);
    }

    public static async Task<IReadOnlyList<SampleView>> Samples(int id, int version, PortalDb db, DataPaths paths, int count = 32, CancellationToken ct = default)
    {
        var v = await FindVersion(db, id, version, ct);
        if (v.Kind != DatasetKinds.Idx)
            throw PortalException.Invalid($"Dataset {id} v{version} holds no images.");
        var profile = DatasetIngest.ReadProfile(v);
        var labels = IdxFile.ReadLabels(Path.Combine(paths.Resolve(v.StoragePath), DatasetFileRoles.TrainLabels), Math.Clamp(count, 1, MaxSamples));
        return labels.Select((label, i) => new SampleView(i, label,
            profile.ClassNames is { } names && label < names.Count ? names[label] : label.ToString(),
            $"/api/v1/datasets/{id}/versions/{version}/samples/{i}.png")).ToList();
    }

    public static async Task<IResult> SampleImage(int id, int version, int index, PortalDb db, DataPaths paths, CancellationToken ct)
    {
        var v = await FindVersion(db, id, version, ct);
        if (index is < 0 or >= MaxSamples)
            throw PortalException.Invalid($"Sample images are served for indexes 0 to {MaxSamples - 1}.", "index");
        if (v.Kind != DatasetKinds.Idx)
            throw PortalException.Invalid($"Dataset {id} v{version} holds no images.");
        var pixels = IdxFile.ReadImage(Path.Combine(paths.Resolve(v.StoragePath), DatasetFileRoles.TrainImages), index);
        return TypedResults.File(PngEncoder.Greyscale(pixels, 28, 28), "image/png");
    }

    private static async Task<DatasetVersion> FindVersion(PortalDb db, int id, int version, CancellationToken ct) =>
        await db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(v => v.DatasetId == id && v.Version == version, ct)
        ?? throw PortalException.NotFound($"Dataset {id} version {version}");

    private static async Task<IFormCollection> ReadFormAsync(HttpContext http, PortalOptions options, CancellationToken ct)
    {
        if (!http.Request.HasFormContentType)
            throw PortalException.Invalid($"Send the upload as multipart/form-data.");
        // Multipart framing adds a little to the file itself; the exact file limit is enforced while copying.
        var limit = options.MaxUploadBytes + (1 << 20);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = limit;
        if (http.Request.ContentLength > limit)
            throw new PortalException(PortalError.TooLarge, $"The upload is larger than the limit of {DatasetIngest.FormatBytes(options.MaxUploadBytes)}.", "file");
        try
        {
            return await http.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = limit, ValueCountLimit = 32 }, ct);
        }
        catch (InvalidDataException ex) when (ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            throw new PortalException(PortalError.TooLarge, $"The upload is larger than the limit of {DatasetIngest.FormatBytes(options.MaxUploadBytes)}.", "file");
        }
    }

    private static async Task<DatasetView> ToViewAsync(Dataset d, DatasetPrivacy privacy, CancellationToken ct, bool maskAlways = false,
        IReadOnlyDictionary<string, bool>? marks = null)
    {
        var versions = d.Versions.OrderByDescending(v => v.Version).ToList();
        var profiles = await privacy.ViewAsync(d, versions, ct, maskAlways, marks: marks);
        return new(d.Id, d.Name, d.CreatedAt, d.CreatedBy, versions.Select((v, i) => ToView(v) with { Profile = profiles[i].Profile, Masked = profiles[i].Masked }).ToList());
    }

    private static DatasetVersionView ToView(DatasetVersion v) =>
        new(v.Id, v.DatasetId, v.Version, v.Kind, v.LabelColumn, v.Rows, v.SizeBytes, v.Sha256, v.OriginalFileName, v.CreatedAt, v.CreatedBy, DatasetIngest.ReadProfile(v));
}
