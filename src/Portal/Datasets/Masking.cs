using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using ModelOps.Engine.Data;

namespace ModelOps.Portal.Datasets;

/// <summary>
/// Masks the values of sensitive columns. Deterministic (the same value always masks the same way) and
/// keeping a hint of the shape: an e-mail keeps its first character and its domain ("a***@example.com"),
/// a card number its last four digits ("**** **** **** 1234"), a phone number or national id its last two
/// characters, anything else becomes <see cref="Other"/>, whatever its length. Empty cells and missing-value
/// tokens (NA, null, ...) stay as they are: that a value is missing is not personal data.
/// </summary>
public static class Masking
{
    public const char Dot = '•';
    /// <summary>What a value of no recognised shape becomes; it says nothing of the value's length.</summary>
    public const string Other = "•••";
    /// <summary>A phone number or id longer than this shows at most this many dots before its last two characters.</summary>
    private const int MaxDots = 16;

    /// <summary>The masked form of <paramref name="value"/> in a column of <paramref name="kind"/> (a <see cref="PersonalDataKinds"/> value, or null).</summary>
    public static string Mask(string? kind, string value)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0 || MissingCells.IsMissing(trimmed)) return value;
        switch (kind)
        {
            case PersonalDataKinds.Email when trimmed.LastIndexOf('@') is var at && at > 0 && at < trimmed.Length - 1:
                return trimmed[0] + "***" + trimmed[at..];
            case PersonalDataKinds.CardNumber when PersonalData.Digits(trimmed) is { Length: >= 8 } digits:
                return "**** **** **** " + digits[^4..];
            case PersonalDataKinds.Phone or PersonalDataKinds.NationalId when trimmed.Length > 4:
                return new string(Dot, Math.Min(MaxDots, trimmed.Length - 2)) + trimmed[^2..];
            default:
                return Other;
        }
    }

    /// <summary>
    /// The profile as someone who may not see <paramref name="sensitive"/> columns' values sees it: their
    /// cells in the first rows, their top values, their min, max and mean, and their fields of a skipped
    /// first line are masked; counts, types and missing shares stay.
    /// </summary>
    public static DatasetProfile MaskProfile(DatasetProfile profile, IReadOnlySet<string> sensitive)
    {
        if (sensitive.Count == 0) return profile;
        var kinds = profile.Columns.Select(c => sensitive.Contains(c.Name) ? c.PersonalData ?? "" : null).ToArray();
        string MaskAt(int i, string v) => i < kinds.Length && kinds[i] is { } k ? Mask(k.Length == 0 ? null : k, v) : v;

        var columns = profile.Columns.Select(c => !sensitive.Contains(c.Name) ? c : c with
        {
            Min = null,
            Max = null,
            Mean = null,
            TopValues = c.TopValues?.Select(v => Mask(c.PersonalData, v)).Distinct(StringComparer.Ordinal).ToList(),
        }).ToList();
        var rows = profile.PreviewRows.Select(r => (IReadOnlyList<string>)r.Select((v, i) => MaskAt(i, v)).ToList()).ToList();
        var skipped = profile.SkippedFirstLine is { } line ? string.Join(",", line.Split(',').Select((v, i) => MaskAt(i, v))) : null;
        return profile with { Columns = columns, PreviewRows = rows, SkippedFirstLine = skipped };
    }

    /// <summary>
    /// Copies a stored CSV (header line first, as every stored data.csv has) to <paramref name="output"/>
    /// with the fields of <paramref name="sensitive"/> columns masked; the other fields keep their text.
    /// </summary>
    public static async Task WriteMaskedCsvAsync(string path, IReadOnlyDictionary<string, string?> sensitive, Stream output, CancellationToken ct)
    {
        using var reader = new StreamReader(path, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: false);
        using var parser = new CsvParser(reader, new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = ",",
            HasHeaderRecord = false,
            DetectColumnCountChanges = false,
            IgnoreBlankLines = true,
            BadDataFound = null,
        });
        await using var writer = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        string?[]? kinds = null; // per field: null = not sensitive, "" = sensitive of no known kind
        while (await parser.ReadAsync())
        {
            ct.ThrowIfCancellationRequested();
            var record = parser.Record!;
            if (kinds is null)
            {
                kinds = record.Select((h, i) => (i == 0 ? h.TrimStart('\uFEFF') : h).Trim())
                    .Select(h => sensitive.TryGetValue(h, out var kind) ? kind ?? "" : null).ToArray();
                await writer.WriteLineAsync(string.Join(",", record.Select(Quote)));
                continue;
            }
            for (var i = 0; i < record.Length && i < kinds.Length; i++)
                if (kinds[i] is { } kind)
                    record[i] = Mask(kind.Length == 0 ? null : kind, record[i]);
            await writer.WriteLineAsync(string.Join(",", record.Select(Quote)));
        }
        await writer.FlushAsync(ct);
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\r', '\n']) >= 0 || (field.Length > 0 && (char.IsWhiteSpace(field[0]) || char.IsWhiteSpace(field[^1])))
            ? "\"" + field.Replace("\"", "\"\"") + "\""
            : field;
}
