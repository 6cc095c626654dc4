using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>The manager review over real HTTP: comparison, sign-off roles, audit, PDF and CSV export (docs/review.md).</summary>
public sealed class ReviewTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;
    private readonly TempFolder _work = new();

    public ReviewTests()
    {
        _http = _portal.ClientForAsync("dana", Identity.TeamRole.Admin).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _portal.Dispose();
        _work.Dispose();
    }

    private Task<int> FinishedRunAsync(string dataset) => SimulatedWorker.FinishedCsvRunAsync(_portal, _http, _work.Path, dataset);

    /// <summary>Model "review-me": v1 in Production, v2 a challenger.</summary>
    private async Task ModelWithTwoVersionsAsync()
    {
        foreach (var run in new[] { await FinishedRunAsync("points-a"), await FinishedRunAsync("points-b") })
            (await _http.PostAsJsonAsync("/api/v1/models/review-me/versions", new { runId = run })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync("/api/v1/models/review-me/versions/1/stage", new { stage = "Production" })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Review_ComparesProductionWithChallengers_WithDifferencesAndPerClassScores()
    {
        await ModelWithTwoVersionsAsync();
        var review = await _http.GetFromJsonAsync<JsonElement>("/api/v1/models/review-me/review");
        Assert.Equal(1, review.GetProperty("productionVersion").GetInt32());
        var versions = review.GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal([1, 2], versions.Select(v => v.GetProperty("version").GetInt32()));
        var production = versions[0].GetProperty("metrics").EnumerateArray().First(m => m.GetProperty("key").GetString() == "accuracy");
        var challenger = versions[1].GetProperty("metrics").EnumerateArray().First(m => m.GetProperty("key").GetString() == "accuracy");
        Assert.Equal(JsonValueKind.Null, production.GetProperty("deltaToProduction").ValueKind);
        Assert.Equal(challenger.GetProperty("value").GetDouble() - production.GetProperty("value").GetDouble(), challenger.GetProperty("deltaToProduction").GetDouble(), 9);
        Assert.NotEmpty(versions[1].GetProperty("classes").EnumerateArray());
        Assert.Equal("dana", versions[1].GetProperty("trainedBy").GetString());
        Assert.Equal("points-b", versions[1].GetProperty("dataset").GetString());
        Assert.True(versions[1].GetProperty("curves").TryGetProperty("train_loss", out _));

        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/models/review-me/review?v=9"), 404, "Version 9");
        await HttpAssert.ProblemAsync(await _http.GetAsync("/api/v1/models/review-me/review?v=2&v=3&v=4&v=5&v=6"), 400, "at most 4 challengers");
    }

    [Fact]
    public async Task SignOff_ApproverIsStoredAndAudited_ViewerIs403_OtherTeamIs404()
    {
        await ModelWithTwoVersionsAsync();
        var viewer = await _portal.ClientForAsync("vic", Identity.TeamRole.Viewer);
        (await viewer.GetAsync("/api/v1/models/review-me/review")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/models/review-me/reviews",
            new { decision = "signed-off", note = "", versions = new[] { 1, 2 } })).StatusCode);
        var other = await _portal.ClientForAsync("olga", Identity.TeamRole.Admin, await _portal.TeamAsync("elsewhere"));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/api/v1/models/review-me/review")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsJsonAsync("/api/v1/models/review-me/reviews",
            new { decision = "signed-off", note = "", versions = new[] { 1 } })).StatusCode);

        var approver = await _portal.ClientForAsync("april", Identity.TeamRole.Approver);
        await HttpAssert.ProblemAsync(await approver.PostAsJsonAsync("/api/v1/models/review-me/reviews",
            new { decision = "maybe", note = "", versions = new[] { 1, 2 } }), 400, "'signed-off' or 'changes-requested'");
        var created = await approver.PostAsJsonAsync("/api/v1/models/review-me/reviews", new { decision = "signed-off", note = "v2 is ready", versions = new[] { 1, 2 } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var list = await viewer.GetFromJsonAsync<JsonElement>("/api/v1/models/review-me/reviews");
        var latest = list.EnumerateArray().Single();
        Assert.Equal("april", latest.GetProperty("actor").GetString());
        Assert.Equal("signed-off", latest.GetProperty("decision").GetString());
        Assert.Equal("Production", latest.GetProperty("versions")[0].GetProperty("stage").GetString());
        Assert.Equal("None", latest.GetProperty("versions")[1].GetProperty("stage").GetString());
        var audited = _portal.Db(db => db.AuditEvents.Where(a => a.Action == "model.review.signed_off").Select(a => new { a.Actor, a.Subject }).ToList());
        Assert.Equal("april", Assert.Single(audited).Actor);
        Assert.Equal("model:review-me", audited[0].Subject);
    }

    [Fact]
    public async Task Export_PdfReadsBackWithTheModelVersionsAndMetrics_AndCsvParsesBack()
    {
        await ModelWithTwoVersionsAsync();
        var approver = await _portal.ClientForAsync("april", Identity.TeamRole.Approver);
        (await approver.PostAsJsonAsync("/api/v1/models/review-me/reviews", new { decision = "changes-requested", note = "=more data", versions = new[] { 1, 2 } })).EnsureSuccessStatusCode();
        var review = await _http.GetFromJsonAsync<JsonElement>("/api/v1/models/review-me/review?v=2");
        var accuracy = review.GetProperty("versions")[1].GetProperty("metrics")[0].GetProperty("value").GetDouble();

        var pdf = await _http.GetAsync("/api/v1/models/review-me/review.pdf?v=2");
        pdf.EnsureSuccessStatusCode();
        Assert.Equal("application/pdf", pdf.Content.Headers.ContentType?.MediaType);
        using (var document = UglyToad.PdfPig.PdfDocument.Open(await pdf.Content.ReadAsByteArrayAsync()))
        {
            // PdfPig joins glyphs without the spaces between words, so both sides are compared without spaces.
            var text = string.Concat(document.GetPages().Select(p => p.Text)).Replace(" ", "");
            Assert.Contains("review-me", text);
            Assert.Contains("v1(Production)", text);
            Assert.Contains("v2(None)", text);
            Assert.Contains(accuracy.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), text);
            Assert.Contains("changes-requested", text);
            Assert.Contains("dana", text);
            Assert.NotEmpty(document.GetPages().SelectMany(p => p.GetImages()));
        }

        var csv = await _http.GetStringAsync("/api/v1/models/review-me/review.csv?v=2");
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Review.ReviewCsv.Header, lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.All(rows, r => Assert.Equal(8, r.Length));
        var row = rows.Single(r => r[1] == "2" && r[3] == "accuracy");
        Assert.Equal(accuracy, double.Parse(row[4], System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal("None", row[2]);
        Assert.Contains(rows, r => r[1] == "1" && r[3].StartsWith("precision[", StringComparison.Ordinal));
    }

    [Fact]
    public void Csv_CellThatASpreadsheetWouldRun_IsPrefixed()
    {
        var report = new Review.ReviewReport("m", 1, DateTime.UtcNow, null,
            [new(1, "None", 1, "=cmd", DateTime.UtcNow, DateTime.UtcNow, "d,1", 1, null, [new("accuracy", 0.5, null, false)], [], null,
                new Dictionary<string, IReadOnlyList<ModelOps.Portal.Tracking.SeriesPoint>>())], [1], [], []);
        var line = Review.ReviewCsv.Write(report).Split("\r\n")[1];
        Assert.Equal("m,1,None,accuracy,0.5,,\"d,1 v1\",'=cmd", line);
    }
}
