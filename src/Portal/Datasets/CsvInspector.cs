using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using ModelOps.Engine.Data;
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
    public static DatasetProfile Inspect(string path, string? requestedLabel, string? textColumn = null) =>
        Inspect(path, new CsvUploadOptions { LabelColumn = requestedLabel, TextColumn = textColumn });

    /// <summary>Profiles a CSV read as <paramref name="options"/> says (header mode, column names, label and text column).</summary>
    public static DatasetProfile Inspect(string path, CsvUploadOptions options)
    {
        var explicitNames = ValidateColumnNames(options.ColumnNames);
        using var stream = File.OpenRead(path);
        if (stream.Length == 0)
            throw Unprocessable($"The file is empty.");
        using var reader = new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false);
        using var parser = new CsvParser(reader, Config());
        try
        {
            return Read(parser, options, explicitNames, string.IsNullOrWhiteSpace(options.TextColumn) ? null : options.TextColumn.Trim());
        }
        catch (DecoderFallbackException ex)
        {
            throw ex.Index >= 0
                ? Unprocessable($"The file is not valid UTF-8 (near line {parser.RawRow + 1}, byte {ex.Index} of that block). Save it as UTF-8 and upload again.")
                : Unprocessable($"The file is not valid UTF-8 (near line {parser.RawRow + 1}). Save it as UTF-8 and upload again.");
        }
    }

    private static CsvConfiguration Config() => new(CultureInfo.InvariantCulture)
    {
        Delimiter = ",",
        HasHeaderRecord = false,
        BadDataFound = args => throw Unprocessable($"Line {args.Context.Parser?.RawRow}: malformed quoting in field '{Truncate(args.Field)}'."),
        DetectColumnCountChanges = false,
        IgnoreBlankLines = true,
    };

    /// <summary>Given names, trimmed; each problem is a 400 naming the name's position, before any of the file is read.</summary>
    private static string[]? ValidateColumnNames(IReadOnlyList<string>? names)
    {
        if (names is not { Count: > 0 }) return null;
        var trimmed = names.Select(n => (n ?? "").Trim()).ToArray();
        for (var i = 0; i < trimmed.Length; i++)
        {
            if (trimmed[i].Length == 0)
                throw PortalException.Invalid($"Column name {i + 1} is empty; every column needs a name.", "columnNames");
            if (trimmed[i].Any(char.IsControl))
                throw PortalException.Invalid($"Column name {i + 1} ('{Truncate(trimmed[i].Replace("\t", " ").Replace("\r", " ").Replace("\n", " "))}') holds a control character such as a tab or a line break; use printable characters only.", "columnNames");
            if (trimmed[i].Length > CsvUploadOptions.MaxColumnNameLength)
                throw PortalException.Invalid($"Column name {i + 1} is {trimmed[i].Length} characters long; at most {CsvUploadOptions.MaxColumnNameLength} are allowed.", "columnNames");
            var duplicate = Array.FindIndex(trimmed, 0, i, n => n == trimmed[i]);
            if (duplicate >= 0)
                throw PortalException.Invalid($"The column name '{Truncate(trimmed[i])}' is given twice (names {duplicate + 1} and {i + 1}); the names must all be different.", "columnNames");
        }
        return trimmed;
    }

    private static bool IsNumber(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>The next record that is not a blank line, or null at the end of the file.</summary>
    private static string[]? NextRecord(CsvParser parser)
    {
        while (parser.Read())
        {
            var record = parser.Record!;
            if (!(record.Length == 1 && record[0].Length == 0))
                return record;
        }
        return null;
    }

    private static DatasetProfile Read(CsvParser parser, CsvUploadOptions options, string[]? explicitNames, string? textColumn)
    {
        if (!parser.Read())
            throw Unprocessable($"The file is empty.");
        // Excel's "CSV UTF-8" starts with a byte-order mark; it is not part of the first field.
        var first = parser.Record!.Select((h, i) => i == 0 ? h.TrimStart('\uFEFF') : h).ToArray();
        if (first.Length == 1 && first[0].Trim().Length == 0)
            throw Unprocessable($"The file is empty.");
        var firstLine = parser.RawRow;

        string[] header;
        string[]? pending = null; // the first data record, when it is already read
        long pendingLine = 0;
        long namesLine = 1;        // the line whose field count the names must match
        var mode = options.Header;
        switch (mode)
        {
            case CsvHeaderMode.FirstRowIsHeader:
                var names = first.Select(h => h.Trim()).ToArray();
                if (explicitNames is not null)
                {
                    if (explicitNames.Length != names.Length)
                        throw PortalException.Invalid($"{explicitNames.Length} column names were given, but the header (line 1) has {names.Length} fields; give one name per field.", "columnNames");
                    header = explicitNames;
                    break;
                }
                ValidateHeader(names);
                header = names;
                break;
            case CsvHeaderMode.SkipFirstRow:
                pending = NextRecord(parser)
                    ?? throw Unprocessable($"The file has no data rows after line 1, which the header option \"skip the first row\" skips.");
                pendingLine = parser.RawRow;
                namesLine = pendingLine;
                header = NamesFor(pending.Length, explicitNames, pendingLine);
                break;
            default:
                pending = first;
                pendingLine = firstLine;
                header = NamesFor(first.Length, explicitNames, firstLine);
                break;
        }
        if (header.Length < 2)
            throw Unprocessable(mode == CsvHeaderMode.FirstRowIsHeader
                ? (FormattableString)$"Line 1: the header has {header.Length} column; at least two are needed (features and a label). Is the delimiter right?"
                : $"Line {namesLine} has {header.Length} field; at least two are needed (features and a label). Is the delimiter right?");

        var textIndex = -1;
        if (textColumn is not null)
        {
            textIndex = Array.IndexOf(header, textColumn);
            if (textIndex < 0)
                throw Unprocessable($"Text column '{Truncate(textColumn)}' was not found. The columns are: {string.Join(", ", header.Select(h => Truncate(h)))}.");
        }
        // A text dataset's text is often the last column; its label is then "label" or the last other column.
        var requestedLabel = options.LabelColumn;
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
        while (true)
        {
            string[] record;
            long line;
            if (pending is not null)
            {
                (record, line, pending) = (pending, pendingLine, null);
            }
            else
            {
                if (!parser.Read()) break;
                record = parser.Record!;
                line = parser.RawRow;
                if (record.Length == 1 && record[0].Length == 0)
                    continue;
            }
            if (record.Length != header.Length)
            {
                if (mode == CsvHeaderMode.FirstRowIsHeader && explicitNames is null && rows == 0)
                    throw Unprocessable($"Line {line} has {record.Length} fields; the header has {header.Length}. Line 1 may not be a header: if it describes the file (such as a row count and class names, as in scikit-learn's iris.csv), upload again with the header option \"skip the first row\" (header=skip); if it is already data, choose \"the first row is data\" (header=data).");
                if (mode == CsvHeaderMode.FirstRowIsHeader)
                    throw Unprocessable($"Line {line} has {record.Length} fields; the header has {header.Length}.");
                throw Unprocessable($"Line {line} has {record.Length} fields; line {namesLine} has {header.Length}, one per column. Every row needs the same number of fields.");
            }
            for (var c = 0; c < record.Length; c++)
            {
                var value = record[c].Trim();
                if (value.Length == 0 && c == textIndex)
                    throw Unprocessable($"Line {line}, text column '{Truncate(header[c])}': the text is empty. Every example needs some text; drop the row.");
                var missing = MissingCells.IsMissing(value);
                if (missing && c == labelIndex)
                    throw Unprocessable(value.Length == 0
                        ? (FormattableString)$"Line {line}, label column '{Truncate(header[c])}': the label is missing. Every example needs its label."
                        : $"Line {line}, label column '{Truncate(header[c])}': the label is missing ('{value}' counts as a missing value). Every example needs its label.");
                if (missing && c != textIndex)
                    columns[c].Missing++;
                else
                    columns[c].Add(value, line);
            }
            var cls = record[labelIndex].Trim();
            classCounts[cls] = classCounts.GetValueOrDefault(cls) + 1;
            if (preview.Count < PreviewRowCount)
                preview.Add(record.Select(v => v.Trim()).ToArray());
            rows++;
        }
        if (rows == 0)
            throw Unprocessable(mode == CsvHeaderMode.FirstRowIsHeader ? $"The file has a header but no data rows." : (FormattableString)$"The file has no data rows.");

        if (textIndex >= 0 && columns[textIndex].NonNumeric == 0)
            throw Unprocessable($"The text column '{Truncate(textColumn)}' holds only numbers; a text dataset needs free text there. Is it the right column?");
        for (var c = 0; c < columns.Length; c++)
        {
            if (c == labelIndex || c == textIndex) continue;
            var col = columns[c];
            var present = col.Numeric + col.NonNumeric;
            if (present == 0 && textIndex < 0)
                throw Unprocessable($"Column '{Truncate(col.Name)}' has no values: all {rows} cells are missing (empty or {string.Join(", ", MissingCells.Tokens)}). Remove the column or fill it.");
            if (col.NonNumeric > 0 && col.Numeric >= NumericMajority * present)
                throw Unprocessable(
                    $"Line {col.FirstNonNumericLine}, column '{Truncate(col.Name)}': '{Truncate(col.FirstNonNumeric!)}' is not a number, but {col.Numeric} of {present} values in this column are.");
        }
        if (classCounts.Count < 2)
            throw Unprocessable($"The label column '{Truncate(label)}' has {classCounts.Count} distinct value; a classifier needs at least two classes.");
        if (classCounts.Count > 1000)
            throw Unprocessable($"The label column '{Truncate(label)}' has {classCounts.Count} distinct values; at most 1000 classes are supported. Is it the right column?");

        var profiles = columns.Select((c, i) => i == textIndex ? c.ToProfile(false, rows) with { Type = "text", TopValues = null } : c.ToProfile(i == labelIndex, rows)).ToList();
        var ordered = classCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value);
        var skipped = mode == CsvHeaderMode.SkipFirstRow ? Truncate(string.Join(",", first), 200) : null;
        return textIndex < 0
            ? new DatasetProfile(DatasetKinds.Csv, rows, profiles, label, ordered, preview, ordered.Keys.ToList(), null, null, null, mode.ToString(), skipped)
            : new DatasetProfile(DatasetKinds.Text, rows, profiles, label, ordered, preview, ordered.Keys.ToList(), null, null, textColumn, mode.ToString(), skipped);
    }

    /// <summary>The header line's names, refused when line 1 does not look like a header (and the refusal says which option fits).</summary>
    private static void ValidateHeader(string[] header)
    {
        var numbers = header.Where(h => IsNumber(h)).ToArray();
        if (numbers.Length > 0)
            throw Unprocessable($"Line 1 does not look like a header: it holds numbers ({string.Join(", ", numbers.Take(5).Select(n => $"'{Truncate(n)}'"))}), not column names. If line 1 describes the file (such as a row count and class names, as in scikit-learn's iris.csv), upload again with the header option \"skip the first row\" (header=skip); if it is already data, choose \"the first row is data\" (header=data). The columns are then named column_1, column_2, … unless you give names.");
        for (var i = 0; i < header.Length; i++)
        {
            if (header[i].Length == 0)
                throw Unprocessable($"Line 1, column {i + 1}: the header has an empty column name. If line 1 is not a header, choose the header option \"skip the first row\" (header=skip) or \"the first row is data\" (header=data).");
            var duplicate = Array.FindIndex(header, 0, i, h => h == header[i]);
            if (duplicate >= 0)
                throw Unprocessable($"Line 1, column {i + 1}: the column name '{Truncate(header[i])}' appears twice. If line 1 is not a header, choose the header option \"skip the first row\" (header=skip) or \"the first row is data\" (header=data).");
        }
    }

    private static string[] NamesFor(int fields, string[]? explicitNames, long line)
    {
        if (explicitNames is null)
            return Enumerable.Range(0, fields).Select(CsvUploadOptions.GeneratedName).ToArray();
        if (explicitNames.Length != fields)
            throw PortalException.Invalid($"{explicitNames.Length} column names were given, but line {line} has {fields} fields; give one name per field.", "columnNames");
        return explicitNames;
    }

    /// <summary>
    /// Writes <paramref name="source"/> to <paramref name="target"/> with a header line of <paramref name="names"/>
    /// and the data records as the header mode says (line 1 dropped unless it is data), so the stored file
    /// reads like any other: the engine and downloads see named columns. Fields keep their text (quoted as needed).
    /// </summary>
    public static void WriteWithHeader(string source, string target, IReadOnlyList<string> names, CsvHeaderMode mode)
    {
        using var reader = new StreamReader(source, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: false);
        using var parser = new CsvParser(reader, Config());
        using var writer = new StreamWriter(target, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        writer.NewLine = "\n";
        writer.WriteLine(string.Join(",", names.Select(Quote)));
        var first = true;
        while (parser.Read())
        {
            var record = parser.Record!;
            if (record.Length == 1 && record[0].Length == 0) continue;
            if (first)
            {
                first = false;
                if (mode != CsvHeaderMode.FirstRowIsData) continue;
                record[0] = record[0].TrimStart('\uFEFF');
            }
            writer.WriteLine(string.Join(",", record.Select(Quote)));
        }
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\r', '\n']) >= 0 || (field.Length > 0 && (char.IsWhiteSpace(field[0]) || char.IsWhiteSpace(field[^1])))
            ? "\"" + field.Replace("\"", "\"\"") + "\""
            : field;

    private static PortalException Unprocessable(FormattableString message) => new(PortalError.Unprocessable, message, "file");

    internal static string Truncate(string? s, int max = 40) => s is null ? "" : s.Length > max ? s[..max] + "…" : s;

    private sealed class ColumnStats(string name)
    {
        public string Name { get; } = name;
        public int Numeric;
        public int NonNumeric;
        /// <summary>Cells that are empty or a missing-value token (<see cref="MissingCells"/>); they take no part in the type and statistics.</summary>
        public int Missing;
        public string? FirstNonNumeric;
        public long FirstNonNumericLine;
        private double _sum, _min = double.MaxValue, _max = double.MinValue;
        private readonly Dictionary<string, int> _distinct = new(StringComparer.Ordinal);
        private bool _distinctOverflow;
        /// <summary>The first non-missing values, for the personal-data check (<see cref="PersonalData"/>).</summary>
        private readonly List<string> _sample = [];

        public void Add(string value, long line)
        {
            if (_sample.Count < PersonalData.SampleSize && value.Length > 0)
                _sample.Add(value);
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

        public ColumnProfile ToProfile(bool isLabel, int rows)
        {
            var numeric = NonNumeric == 0 && Numeric > 0 && !isLabel;
            var top = numeric ? null : _distinct.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(5).Select(kv => kv.Key).ToList();
            return new ColumnProfile(
                Name,
                isLabel ? "label" : numeric ? "numeric" : "categorical",
                Missing: Missing,
                Distinct: _distinctOverflow ? MaxTrackedDistinct : _distinct.Count,
                Min: numeric ? _min : null,
                Max: numeric ? _max : null,
                Mean: numeric ? _sum / Math.Max(1, Numeric) : null,
                TopValues: top,
                MissingShare: rows == 0 ? 0 : Math.Round((double)Missing / rows, 4),
                PersonalData: PersonalData.Detect(_sample));
        }
    }
}
