using System.Globalization;
using System.Text;

namespace ModelOps.Portal.Audit;

/// <summary>
/// The audit trail as RFC 4180 CSV: a header, CRLF line ends, fields with a comma, quote, CR or LF quoted (quotes
/// doubled), times in ISO 8601 UTC. A spreadsheet runs a cell that starts with '=', '+', '-', '@', TAB or CR as a
/// formula, so such a cell gets a leading apostrophe first (OWASP's advice on CSV injection): an actor named
/// "+cmd" or details of "=HYPERLINK(...)" come out as text. Rows are written as they arrive.
/// </summary>
public static class AuditCsv
{
    public const string Header = "At,Actor,Action,Resource,Before,After,Details";
    private const int FlushEvery = 200;

    public static async Task WriteAsync(TextWriter writer, IAsyncEnumerable<AuditRow> rows, CancellationToken ct = default)
    {
        await writer.WriteAsync(Header + "\r\n");
        var written = 0;
        await foreach (var row in rows.WithCancellation(ct))
        {
            await writer.WriteAsync(Line(row));
            if (++written % FlushEvery == 0) await writer.FlushAsync(ct);
        }
        await writer.FlushAsync(ct);
    }

    /// <summary>One record, with its CRLF.</summary>
    public static string Line(AuditRow row)
    {
        var line = new StringBuilder();
        line.Append(Cell(Time(row.At))).Append(',')
            .Append(Cell(row.Actor)).Append(',')
            .Append(Cell(row.Action)).Append(',')
            .Append(Cell(row.Subject)).Append(',')
            .Append(Cell(row.Before)).Append(',')
            .Append(Cell(row.After)).Append(',')
            .Append(Cell(row.Details)).Append("\r\n");
        return line.ToString();
    }

    /// <summary>"2026-12-01T13:05:09.123Z".</summary>
    public static string Time(DateTime utc) =>
        AuditQuery.Utc(utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>One field: neutralised if a spreadsheet would run it, then quoted if CSV needs it.</summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.AsSpan().IndexOfAny(",;\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
