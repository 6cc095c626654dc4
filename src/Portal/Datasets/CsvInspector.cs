using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Datasets;

/// <summary>
/// Validates a stored CSV/TSV upload and profiles it in one streaming pass. Every refusal names the
/// line and column, because the person fixing the file needs to find it.
/// </summary>
public static class CsvInspector
{
    private const int PreviewRowCount = 20;
    private const int MaxTrackedDistinct = 1000;
    /// <summary>A column this numeric is meant to be numeric; a stray word in it is a data error.</summary>
    private const double NumericMajority = 0.9;

    /// <summary>
    /// Profiles a tabular CSV, or with <paramref name="textColumn"/> a text dataset: a label column and a
    /// column of free text (documents), checked to exist, to differ from the label and to hold text.
    /// </summary>
    public static DatasetProfile Inspect(string path, string? requestedLabel, string? textColumn = null)
    {
        using var stream = File.OpenRead(path);
        if (stream.Length == 0)
            throw Unprocessable($"The file is empty.");
        using var reader = new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false);
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = ",",
            HasHeaderRecord = true,
            BadDataFound = args => throw Unprocessable($"Line {args.Context.Parser?.RawRow}: malformed quoting in field '{Truncate(args.Field)}'."),
            DetectColumnCountChanges = false,
            IgnoreBlankLines = true,
        };
        using var parser = new CsvParser(reader, config);
        try
        {
            return Read(parser, requestedLabel, string.IsNullOrWhiteSpace(textColumn) ? null : textColumn.Trim());
        }
        catch (DecoderFallbackException ex)
        {
            throw ex.Index >= 0
                ? Unprocessable($"The file is not valid UTF-8 (near line {parser.RawRow + 1}, byte {ex.Index} of that block). Save it as UTF-8 and upload again.")
                : Unprocessable($"The file is not valid UTF-8 (near line {parser.RawRow + 1}). Save it as UTF-8 and upload again.");
        }
    }

    private static DatasetProfile Read(CsvParser parser, string? requestedLabel, string? textColumn)
    {
        if (!parser.Read())
            throw Unprocessable($"The file is empty.");
        // Excel's "CSV UTF-8" starts with a byte-order mark; it is not part of the first column's name.
        var header = parser.Record!.Select((h, i) => (i == 0 ? h.TrimStart('\uFEFF') : h).Trim()).ToArray();
        if (header.Length == 1 && header[0].Length == 0)
            throw Unprocessable($"The file is empty.");
        if (header.Length < 2)
            throw Unprocessable($"Line 1: the header has {header.Length} column; at least two are needed (features and a label). Is the delimiter right?");
        for (var i = 0; i < header.Length; i++)
        {
            if (header[i].Length == 0)
                throw Unprocessable($"Line 1, column {i + 1}: the header has an empty column name.");
            var duplicate = Array.FindIndex(header, 0, i, h => h == header[i]);
            if (duplicate >= 0)
                throw Unprocessable($"Line 1, column {i + 1}: the column name '{Truncate(header[i])}' appears twice.");
        }
        var textIndex = -1;
        if (textColumn is not null)
        {
            textIndex = Array.IndexOf(header, textColumn);
            if (textIndex < 0)
                throw Unprocessable($"Text column '{Truncate(textColumn)}' was not found. The columns are: {string.Join(", ", header.Select(h => Truncate(h)))}.");
        }
        // A text dataset's text is often the last column; its label is then "label" or the last other column.
        var label = !string.IsNullOrWhiteSpace(requestedLabel) ? requestedLabel.Trim()
            : textIndex < 0 ? header[^1]
            : header.Contains("label") && textColumn != "label" ? "label"
            : header.Last(h => h != textColumn);
        var labelIndex = Array.IndexOf(header, label);
        if (labelIndex < 0)
            throw Unprocessable($"Label column '{Truncate(label)}' was not found. The columns are: {string.Join(", ", header.Select(h => Truncate(h)))}.");
        if (labelIndex == textIndex)
            throw Unprocessable($"The label column and the text column are both '{Truncate(label)}'; name two different columns.");

        var columns = header.Select(h => new ColumnStats(h)).ToArray();
        var preview = new List<IReadOnlyList<string>>();
        var classCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = 0;
        while (parser.Read())
        {
            var record = parser.Record!;
            var line = parser.RawRow;
            if (record.Length == 1 && record[0].Length == 0)
                continue;
            if (record.Length != header.Length)
                throw Unprocessable($"Line {line} has {record.Length} fields; the header has {header.Length}.");
            for (var c = 0; c < record.Length; c++)
            {
                var value = record[c].Trim();
                if (value.Length == 0 && c == textIndex)
                    throw Unprocessable($"Line {line}, text column '{Truncate(header[c])}': the text is empty. Every example needs some text; drop the row.");
                if (value.Length == 0 && c == labelIndex)
                    throw Unprocessable($"Line {line}, label column '{Truncate(header[c])}': the label is missing. Every example needs its label.");
                if (value.Length == 0)
                    throw Unprocessable($"Line {line}, column '{Truncate(header[c])}': the value is missing. Missing values are not supported yet; fill or drop the row.");
                columns[c].Add(value, line);
            }
            var cls = record[labelIndex].Trim();
            classCounts[cls] = classCounts.GetValueOrDefault(cls) + 1;
            if (preview.Count < PreviewRowCount)
                preview.Add(record.Select(v => v.Trim()).ToArray());
            rows++;
        }
        if (rows == 0)
            throw Unprocessable($"The file has a header but no data rows.");

        if (textIndex >= 0 && columns[textIndex].NonNumeric == 0)
            throw Unprocessable($"The text column '{Truncate(textColumn)}' holds only numbers; a text dataset needs free text there. Is it the right column?");
        for (var c = 0; c < columns.Length; c++)
        {
            if (c == labelIndex || c == textIndex) continue;
            var col = columns[c];
            if (col.NonNumeric > 0 && col.Numeric >= NumericMajority * rows)
                throw Unprocessable(
                    $"Line {col.FirstNonNumericLine}, column '{Truncate(col.Name)}': '{Truncate(col.FirstNonNumeric!)}' is not a number, but {col.Numeric} of {rows} values in this column are.");
        }
        if (classCounts.Count < 2)
            throw Unprocessable($"The label column '{Truncate(label)}' has {classCounts.Count} distinct value; a classifier needs at least two classes.");
        if (classCounts.Count > 1000)
            throw Unprocessable($"The label column '{Truncate(label)}' has {classCounts.Count} distinct values; at most 1000 classes are supported. Is it the right column?");

        var profiles = columns.Select((c, i) => i == textIndex ? c.ToProfile(false) with { Type = "text", TopValues = null } : c.ToProfile(i == labelIndex)).ToList();
        var ordered = classCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value);
        return textIndex < 0
            ? new DatasetProfile(DatasetKinds.Csv, rows, profiles, label, ordered, preview, ordered.Keys.ToList(), null, null)
            : new DatasetProfile(DatasetKinds.Text, rows, profiles, label, ordered, preview, ordered.Keys.ToList(), null, null, textColumn);
    }

    private static PortalException Unprocessable(FormattableString message) => new(PortalError.Unprocessable, message, "file");

    internal static string Truncate(string? s) => s is null ? "" : s.Length > 40 ? s[..40] + "…" : s;

    private sealed class ColumnStats(string name)
    {
        public string Name { get; } = name;
        public int Numeric;
        public int NonNumeric;
        public string? FirstNonNumeric;
        public long FirstNonNumericLine;
        private double _sum, _min = double.MaxValue, _max = double.MinValue;
        private readonly Dictionary<string, int> _distinct = new(StringComparer.Ordinal);
        private bool _distinctOverflow;

        public void Add(string value, long line)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            {
                Numeric++;
                _sum += number;
                _min = Math.Min(_min, number);
                _max = Math.Max(_max, number);
            }
            else
            {
                if (NonNumeric++ == 0)
                {
                    FirstNonNumeric = value;
                    FirstNonNumericLine = line;
                }
            }
            if (_distinct.Count < MaxTrackedDistinct || _distinct.ContainsKey(value))
                _distinct[value] = _distinct.GetValueOrDefault(value) + 1;
            else
                _distinctOverflow = true;
        }

        public ColumnProfile ToProfile(bool isLabel)
        {
            var numeric = NonNumeric == 0 && !isLabel;
            var top = numeric ? null : _distinct.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(5).Select(kv => kv.Key).ToList();
            return new ColumnProfile(
                Name,
                isLabel ? "label" : numeric ? "numeric" : "categorical",
                Missing: 0,
                Distinct: _distinctOverflow ? MaxTrackedDistinct : _distinct.Count,
                Min: numeric ? _min : null,
                Max: numeric ? _max : null,
                Mean: numeric ? _sum / Math.Max(1, Numeric) : null,
                TopValues: top);
        }
    }
}
