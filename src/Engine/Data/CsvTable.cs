using System.Text;

namespace ModelOps.Engine.Data;

/// <summary>A CSV file read whole: a header row and data rows of the same width (RFC 4180 quoting).</summary>
public sealed class CsvTable
{
    private CsvTable(string[] header, List<string[]> rows, List<int> lines)
    {
        Header = header;
        Rows = rows;
        RowLines = lines;
    }

    public string[] Header { get; }
    public IReadOnlyList<string[]> Rows { get; }
    /// <summary>The file line each row starts on (1 is the header), for messages a person can follow to the cell.</summary>
    public IReadOnlyList<int> RowLines { get; }

    public static CsvTable Read(string path)
    {
        if (!File.Exists(path)) throw new DatasetFormatException($"CSV file not found: {path}");
        char delimiter = DetectDelimiter(path);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Parse(reader, Path.GetFileName(path), delimiter);
    }

    /// <summary>Tab for .tsv/.tab files and for files whose header has tabs but no commas; comma otherwise.</summary>
    public static char DetectDelimiter(string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".tsv" or ".tab") return '\t';
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        string header = reader.ReadLine() ?? "";
        return header.Contains('\t') && !header.Contains(',') ? '\t' : ',';
    }

    public static CsvTable Parse(TextReader reader, string sourceName = "CSV", char delimiter = ',')
    {
        var records = ReadRecords(reader, delimiter).GetEnumerator();
        if (!records.MoveNext()) throw new DatasetFormatException($"{sourceName}: the file is empty (a header row is required)");
        var (header, _) = records.Current;
        for (int i = 0; i < header.Length; i++) header[i] = header[i].Trim();
        if (header.Any(string.IsNullOrEmpty)) throw new DatasetFormatException($"{sourceName}: the header row has an empty column name");
        var duplicate = header.GroupBy(h => h, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new DatasetFormatException($"{sourceName}: column '{duplicate.Key}' appears twice in the header");

        var rows = new List<string[]>();
        var lines = new List<int>();
        while (records.MoveNext())
        {
            var (fields, line) = records.Current;
            if (fields.Length == 1 && fields[0].Length == 0) continue; // blank line
            if (fields.Length != header.Length)
                throw new DatasetFormatException($"{sourceName} line {line}: expected {header.Length} fields, got {fields.Length}");
            rows.Add(fields);
            lines.Add(line);
        }
        return new CsvTable(header, rows, lines);
    }

    private static IEnumerable<(string[] Fields, int Line)> ReadRecords(TextReader reader, char delimiter)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, recordLine = 1;
        bool inQuotes = false, fieldWasQuoted = false, any = false;
        int c;
        while ((c = reader.Read()) != -1)
        {
            any = true;
            char ch = (char)c;
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else inQuotes = false;
                }
                else
                {
                    if (ch == '\n') line++;
                    field.Append(ch);
                }
                continue;
            }
            if (ch == delimiter)
            {
                fields.Add(field.ToString());
                field.Clear();
                fieldWasQuoted = false;
                continue;
            }
            switch (ch)
            {
                case '"' when field.Length == 0 && !fieldWasQuoted:
                    inQuotes = true;
                    fieldWasQuoted = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    fields.Add(field.ToString());
                    yield return (fields.ToArray(), recordLine);
                    fields.Clear();
                    field.Clear();
                    fieldWasQuoted = false;
                    any = false;
                    recordLine = ++line;
                    break;
                default:
                    field.Append(ch);
                    break;
            }
        }
        if (inQuotes) throw new DatasetFormatException($"line {recordLine}: a quoted field is not closed");
        if (any)
        {
            fields.Add(field.ToString());
            yield return (fields.ToArray(), recordLine);
        }
    }
}
