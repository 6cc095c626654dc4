using System.Text;
using ModelOps.Portal.Audit;

namespace ModelOps.Portal.Tests;

/// <summary>AuditCsv: RFC 4180 quoting, ISO 8601 UTC times, and spreadsheet formulas neutralised before quoting.</summary>
public sealed class AuditCsvTests
{
    private static AuditRow Row(string actor = "dana", string action = "model.stage.changed", string subject = "model:churn:v3",
        string? before = null, string? after = null, string? details = null) =>
        new(1, new DateTime(2026, 12, 1, 13, 5, 9, 123, DateTimeKind.Utc), actor, action, subject, AuditEvent.TypeOf(subject), before, after, details, null);

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("", "")]
    [InlineData(null, "")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("line1\nline2", "\"line1\nline2\"")]
    [InlineData("line1\r\nline2", "\"line1\r\nline2\"")]
    [InlineData("中文,名字", "\"中文,名字\"")]
    public void Fields_are_quoted_only_when_they_hold_a_comma_quote_or_line_break(string? value, string expected) =>
        Assert.Equal(expected, AuditCsv.Cell(value));

    [Theory]
    [InlineData("=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+cmd", "'+cmd")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("\rcmd", "\"'\rcmd\"")]
    public void A_cell_a_spreadsheet_would_run_gets_an_apostrophe_before_quoting(string value, string expected) =>
        Assert.Equal(expected, AuditCsv.Cell(value));

    [Theory]
    [InlineData("a=b")]
    [InlineData("x+1")]
    [InlineData("dana@example.com")]
    [InlineData("Production -> Archived")]
    public void The_characters_are_harmless_after_the_first_position(string value) =>
        Assert.Equal(value, AuditCsv.Cell(value));

    [Fact]
    public void A_line_has_the_header_s_seven_fields_with_an_iso_utc_time_and_ends_in_crlf()
    {
        var line = AuditCsv.Line(Row(before: "Staging", after: "Production", details: "by the gate, margin 0.01"));
        Assert.Equal("2026-12-01T13:05:09.123Z,dana,model.stage.changed,model:churn:v3,Staging,Production,\"by the gate, margin 0.01\"\r\n", line);
        Assert.Equal(7, AuditCsv.Header.Split(',').Length);
    }

    [Fact]
    public async Task Written_rows_parse_back_to_what_was_written()
    {
        var rows = new[]
        {
            Row(actor: "+cmd", details: "=HYPERLINK(\"http://evil\",\"click\")"),
            Row(actor: "李雷", details: "two\r\nlines, and \"quotes\"", before: "{\"name\":\"a\"}", after: null),
            Row(actor: "@admin", subject: "-token", details: "\tindented"),
        };
        using var text = new StringWriter();
        await AuditCsv.WriteAsync(text, Stream(rows));
        var parsed = Csv.Parse(text.ToString());
        Assert.Equal(["At", "Actor", "Action", "Resource", "Before", "After", "Details"], parsed[0]);
        Assert.Equal(4, parsed.Count);
        Assert.Equal("'+cmd", parsed[1][1]);
        Assert.Equal("'=HYPERLINK(\"http://evil\",\"click\")", parsed[1][6]);
        Assert.Equal("李雷", parsed[2][1]);
        Assert.Equal("two\r\nlines, and \"quotes\"", parsed[2][6]);
        Assert.Equal("{\"name\":\"a\"}", parsed[2][4]);
        Assert.Equal("", parsed[2][5]);
        Assert.Equal(["'@admin", "'-token", "'\tindented"], new[] { parsed[3][1], parsed[3][3], parsed[3][6] });
        Assert.All(parsed, r => Assert.Equal(7, r.Count));
    }

    private static async IAsyncEnumerable<AuditRow> Stream(IEnumerable<AuditRow> rows)
    {
        foreach (var row in rows)
        {
            await Task.Yield();
            yield return row;
        }
    }
}

/// <summary>A strict RFC 4180 reader for the tests: CRLF between records, quoted fields may hold anything.</summary>
internal static class Csv
{
    public static List<List<string>> Parse(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        var quoted = false;
        while (i < text.Length)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                if (c == '"') { quoted = false; i++; continue; }
                field.Append(c);
                i++;
                continue;
            }
            if (c == '"' && field.Length == 0) { quoted = true; i++; continue; }
            if (c == ',') { record.Add(field.ToString()); field.Clear(); i++; continue; }
            if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                record.Add(field.ToString());
                field.Clear();
                records.Add(record);
                record = [];
                i += 2;
                continue;
            }
            Assert.False(c is '\r' or '\n', $"a bare line break outside quotes at {i}");
            field.Append(c);
            i++;
        }
        Assert.False(quoted, "an unterminated quoted field");
        if (field.Length > 0 || record.Count > 0)
        {
            record.Add(field.ToString());
            records.Add(record);
        }
        return records;
    }
}
