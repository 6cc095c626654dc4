using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Datasets;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// Sensitive columns: the upload's personal-data check, marks, masking of every route that returns a stored
/// version's values (the dataset, the list, the data.csv download), and the audit of raw views and downloads,
/// with <see cref="IRawDataAccess"/> replaced by a fixed answer as the role check will replace it.
/// </summary>
public sealed class SensitiveColumnsTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;

    public SensitiveColumnsTests() => _http = _portal.CreateClient();

    public void Dispose() => _portal.Dispose();

    private sealed class FixedRawAccess(bool may) : IRawDataAccess
    {
        public Task<bool> MaySeeRawAsync(int datasetId, CancellationToken ct) => Task.FromResult(may);
    }

    private HttpClient Client(bool maySeeRaw) =>
        _portal.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddScoped<IRawDataAccess>(_ => new FixedRawAccess(maySeeRaw)))).CreateClient();

    /// <summary>A CSV of people: an id, an e-mail, a (Luhn-valid) card number, an amount, a label.</summary>
    internal static string PeopleCsv(int rows = 30)
    {
        var csv = new StringBuilder("id,email,card,amount,label\n");
        for (var i = 0; i < rows; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{i + 1},user{i}@example.com,{Card(i)},{(i * 1.37 + 0.5).ToString(CultureInfo.InvariantCulture)},{(i % 2 == 0 ? "yes" : "no")}\n");
        return csv.ToString();
    }

    /// <summary>A 16-digit card number "4000 0000 0000 0nnc" with its Luhn check digit c.</summary>
    internal static string Card(int i)
    {
        var body = "400000000000" + (100 + i).ToString("D3", CultureInfo.InvariantCulture);
        for (var check = 0; check < 10; check++)
            if (PersonalData.Luhn(body + check))
            {
                var digits = body + check;
                return $"{digits[..4]} {digits[4..8]} {digits[8..12]} {digits[12..]}";
            }
        throw new InvalidOperationException();
    }

    private async Task<JsonElement> UploadAsync(string name, string csv, HttpClient? client = null)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(name), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", "people.csv" },
        };
        var response = await (client ?? _http).PostAsync("/api/v1/datasets/csv", form);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static Dictionary<string, JsonElement> Columns(JsonElement version) =>
        version.GetProperty("profile").GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.Clone());

    private static string? Detected(JsonElement column) =>
        column.TryGetProperty("personalData", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private List<(string Action, string Subject, string? Details)> Audit(string action) =>
        _portal.Db(db => db.AuditEvents.Where(a => a.Action == action).OrderBy(a => a.Id).Select(a => new { a.Action, a.Subject, a.Details }).ToList())
            .Select(a => (a.Action, a.Subject, a.Details)).ToList();

    // ---- detection ----

    [Theory]
    [InlineData("ana@example.com", PersonalDataKinds.Email)]
    [InlineData("j.doe+tag@mail.example.co.uk", PersonalDataKinds.Email)]
    [InlineData("4111 1111 1111 1111", PersonalDataKinds.CardNumber)]
    [InlineData("4111-1111-1111-1111", PersonalDataKinds.CardNumber)]
    [InlineData("4111111111111111", PersonalDataKinds.CardNumber)]
    [InlineData("378282246310005", PersonalDataKinds.CardNumber)] // 15 digits (Amex test number)
    [InlineData("123-45-6789", PersonalDataKinds.NationalId)]
    [InlineData("11010519491231002X", PersonalDataKinds.NationalId)] // GB 11643 sample, check character X
    [InlineData("+44 20 7946 0958", PersonalDataKinds.Phone)]
    [InlineData("(555) 123-4567", PersonalDataKinds.Phone)]
    [InlineData("555-123-4567", PersonalDataKinds.Phone)]
    [InlineData("+1 (555) 123-4567", PersonalDataKinds.Phone)]
    [InlineData("+8613812345678", PersonalDataKinds.Phone)]
    [InlineData("13812345678", PersonalDataKinds.Phone)]   // a Chinese mobile number
    [InlineData("07700900123", PersonalDataKinds.Phone)]   // a national trunk 0
    [InlineData("020-1234-5678", PersonalDataKinds.Phone)]
    public void A_value_of_each_kind_is_recognised(string value, string kind) => Assert.Equal(kind, PersonalData.Classify(value));

    [Theory]
    [InlineData("not an email")]
    [InlineData("a@b")]                  // no top-level domain
    [InlineData("a@@example.com")]
    [InlineData("4111111111111112")]     // Luhn-invalid
    [InlineData("4111 1111 1111 1112")]  // Luhn-invalid, grouped
    [InlineData("0000000000000000")]     // passes Luhn, but all zeros
    [InlineData("2024-01-15")]           // a date
    [InlineData("12345678")]             // a plain integer
    [InlineData("100000123")]
    [InlineData("3.14159265")]           // a measurement
    [InlineData("-12345678")]
    [InlineData("1234567")]              // 7 digits: too short for a phone
    [InlineData("1.5e10")]
    public void Values_that_are_not_personal_data_are_not_recognised(string value) => Assert.Null(PersonalData.Classify(value));

    [Fact]
    public void Ssn_rules_and_the_chinese_id_checksum_are_enforced()
    {
        Assert.True(PersonalData.IsUsSsn("123-45-6789"));
        Assert.False(PersonalData.IsUsSsn("000-45-6789"));
        Assert.False(PersonalData.IsUsSsn("666-45-6789"));
        Assert.False(PersonalData.IsUsSsn("912-45-6789"));
        Assert.False(PersonalData.IsUsSsn("123-00-6789"));
        Assert.False(PersonalData.IsUsSsn("123-45-0000"));
        Assert.False(PersonalData.IsUsSsn("123456789"));

        Assert.Equal('X', PersonalData.ChineseIdCheck("11010519491231002"));
        Assert.True(PersonalData.IsChineseResidentId("11010519491231002X"));
        Assert.True(PersonalData.IsChineseResidentId("11010519491231002x"));
        foreach (var wrong in "0123456789")
            Assert.False(PersonalData.IsChineseResidentId("11010519491231002" + wrong)); // every other check character fails
        Assert.False(PersonalData.IsChineseResidentId("11010519491331002X")); // month 13
        Assert.False(PersonalData.IsChineseResidentId("1101051949123100X"));  // 17 characters
        Assert.False(PersonalData.IsChineseResidentId("A1010519491231002X"));
    }

    [Fact]
    public void Luhn_is_the_mod_10_check()
    {
        Assert.True(PersonalData.Luhn("79927398713"));
        Assert.False(PersonalData.Luhn("79927398710"));
        Assert.True(PersonalData.IsCardNumber(Card(5)));
        Assert.False(PersonalData.IsCardNumber(Card(5)[..^1] + (Card(5)[^1] == '9' ? '0' : (char)(Card(5)[^1] + 1))));
    }

    [Fact]
    public void A_column_is_flagged_when_at_least_the_match_share_of_its_values_are_one_kind()
    {
        Assert.Equal(0.6, PersonalData.MatchShare);
        static IEnumerable<string> Mixed(int emails, int others) =>
            Enumerable.Range(0, emails).Select(i => $"p{i}@example.org").Concat(Enumerable.Range(0, others).Select(i => $"word{i}"));
        Assert.Equal(PersonalDataKinds.Email, PersonalData.Detect(Mixed(6, 4)));
        Assert.Null(PersonalData.Detect(Mixed(5, 5)));
        // Empty values take no part.
        Assert.Equal(PersonalDataKinds.Email, PersonalData.Detect(Mixed(6, 4).Concat(Enumerable.Repeat("", 20))));
        Assert.Null(PersonalData.Detect([]));
        Assert.Null(PersonalData.Detect(["", "  "]));
    }

    [Fact]
    public void Numeric_measurement_and_id_columns_are_never_flagged()
    {
        var floats = Enumerable.Range(0, 500).Select(i => (i * 1.37 - 200).ToString(CultureInfo.InvariantCulture));
        var ids = Enumerable.Range(1, 5000).Select(i => i.ToString(CultureInfo.InvariantCulture));
        var bigIds = Enumerable.Range(0, 1000).Select(i => (100_000_000 + i).ToString(CultureInfo.InvariantCulture));
        var millis = Enumerable.Range(0, 1000).Select(i => (1_700_000_000_000L + i * 7919L).ToString(CultureInfo.InvariantCulture));
        var scaled = Enumerable.Range(0, 1000).Select(i => (12_345_678.9 + i).ToString(CultureInfo.InvariantCulture));
        Assert.Null(PersonalData.Detect(floats));
        Assert.Null(PersonalData.Detect(ids));
        Assert.Null(PersonalData.Detect(bigIds));
        Assert.Null(PersonalData.Detect(millis));
        Assert.Null(PersonalData.Detect(scaled));
    }

    [Fact]
    public void Masks_keep_a_hint_of_the_shape_and_are_deterministic()
    {
        Assert.Equal("a***@example.com", Masking.Mask(PersonalDataKinds.Email, "ana@example.com"));
        Assert.Equal("**** **** **** 1111", Masking.Mask(PersonalDataKinds.CardNumber, "4111-1111-1111-1111"));
        Assert.Equal("•••••••••89", Masking.Mask(PersonalDataKinds.NationalId, "123-45-6789"));
        Assert.Equal("••••••••••••78", Masking.Mask(PersonalDataKinds.Phone, "+8613812345678"));
        Assert.Equal(Masking.Other, Masking.Mask(null, "Ada Lovelace"));
        Assert.Equal(Masking.Other, Masking.Mask(null, new string('x', 500))); // no length beyond a cap
        Assert.Equal(Masking.Other, Masking.Mask(PersonalDataKinds.Email, "no at sign"));
        Assert.Equal("", Masking.Mask(PersonalDataKinds.Email, ""));
        Assert.Equal("NA", Masking.Mask(PersonalDataKinds.Email, "NA")); // a missing value says nothing
        Assert.Equal(Masking.Mask(PersonalDataKinds.Email, "bob@x.org"), Masking.Mask(PersonalDataKinds.Email, "bob@x.org"));
    }

    // ---- through the API ----

    [Fact]
    public async Task An_upload_flags_the_email_and_card_columns_in_its_profile()
    {
        var version = await UploadAsync("people", PeopleCsv());
        var columns = Columns(version);
        Assert.Equal(PersonalDataKinds.Email, Detected(columns["email"]));
        Assert.Equal(PersonalDataKinds.CardNumber, Detected(columns["card"]));
        Assert.Null(Detected(columns["id"]));
        Assert.Null(Detected(columns["amount"]));
        Assert.Null(Detected(columns["label"]));

        var dataset = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{version.GetProperty("datasetId").GetInt32()}");
        var shown = Columns(dataset.GetProperty("versions")[0]);
        Assert.True(shown["email"].GetProperty("sensitive").GetBoolean());
        Assert.True(shown["card"].GetProperty("sensitive").GetBoolean());
        Assert.False(shown["amount"].GetProperty("sensitive").GetBoolean());
        Assert.False(dataset.GetProperty("versions")[0].GetProperty("masked").GetBoolean()); // the default seam: everyone sees raw
    }

    [Fact]
    public async Task Without_raw_access_the_download_and_the_dataset_show_masked_values_only()
    {
        var csv = PeopleCsv();
        var version = await UploadAsync("people", csv);
        var id = version.GetProperty("datasetId").GetInt32();
        var viewer = Client(maySeeRaw: false);

        var bytes = await viewer.GetByteArrayAsync($"/api/v1/datasets/{id}/versions/1/files/data.csv");
        var text = Encoding.UTF8.GetString(bytes);
        for (var i = 0; i < 30; i++)
        {
            Assert.DoesNotContain($"user{i}@example.com", text);
            Assert.DoesNotContain(Card(i), text);
            Assert.DoesNotContain(Card(i).Replace(" ", ""), text);
        }
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(31, lines.Length);
        Assert.Equal("id,email,card,amount,label", lines[0]);
        Assert.Equal($"1,u***@example.com,**** **** **** {Card(0).Replace(" ", "")[^4..]},0.5,yes", lines[1]);

        foreach (var route in new[] { $"/api/v1/datasets/{id}", "/api/v1/datasets" })
        {
            var body = await viewer.GetStringAsync(route);
            Assert.DoesNotContain("@example.com\"", body.Replace("u***@example.com\"", ""));
            for (var i = 0; i < 30; i++)
                Assert.DoesNotContain($"user{i}@example.com", body);
            Assert.DoesNotContain("4000 0000 0000", body);
            Assert.Contains("u***@example.com", body);
        }
        var dataset = await viewer.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}");
        Assert.True(dataset.GetProperty("versions")[0].GetProperty("masked").GetBoolean());
        Assert.Empty(Audit(DatasetPrivacy.RawDownloadedAction));
        Assert.Empty(Audit(DatasetPrivacy.RawViewedAction));
    }

    [Fact]
    public async Task With_raw_access_the_file_downloads_byte_identical_and_the_view_and_download_are_audited()
    {
        var csv = PeopleCsv();
        var version = await UploadAsync("people", csv);
        var id = version.GetProperty("datasetId").GetInt32();
        var editor = Client(maySeeRaw: true);

        var bytes = await editor.GetByteArrayAsync($"/api/v1/datasets/{id}/versions/1/files/data.csv");
        Assert.Equal(Encoding.UTF8.GetBytes(csv), bytes);
        var download = Assert.Single(Audit(DatasetPrivacy.RawDownloadedAction));
        Assert.Equal("dataset:people:v1", download.Subject);
        Assert.Contains("card", download.Details);
        Assert.Contains("email", download.Details);

        var body = await editor.GetStringAsync($"/api/v1/datasets/{id}");
        Assert.Contains("user0@example.com", body);
        Assert.Equal("dataset:people:v1", Assert.Single(Audit(DatasetPrivacy.RawViewedAction)).Subject);
        // The list never shows raw values, so it audits nothing.
        Assert.DoesNotContain("user0@example.com", await editor.GetStringAsync("/api/v1/datasets"));
        Assert.Single(Audit(DatasetPrivacy.RawViewedAction));
    }

    [Fact]
    public async Task The_training_worker_of_a_run_on_the_version_downloads_it_raw_and_is_audited()
    {
        var csv = PeopleCsv(60);
        var version = await UploadAsync("people", csv);
        var other = await UploadAsync("others", PeopleCsv(20));
        var created = await _http.PostAsJsonAsync("/api/v1/runs", new
        {
            datasetVersionId = version.GetProperty("id").GetInt32(), template = "mlp", epochs = 1, batchSize = 16, learningRate = 0.01, optimizer = "adam",
            seed = 3, validationFraction = 0.2, testFraction = 0.2,
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var runId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        // The second host starts (and recovers Running runs) before the attempt begins.
        var worker = Client(maySeeRaw: false);
        var launch = await _portal.InScopeAsync(sp => sp.GetRequiredService<Runs.RunLifecycle>().BeginAttemptAsync(runId, CancellationToken.None));
        worker.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", launch!.Token);

        var bytes = await worker.GetByteArrayAsync($"/api/v1/datasets/{version.GetProperty("datasetId").GetInt32()}/versions/1/files/data.csv");
        Assert.Equal(Encoding.UTF8.GetBytes(csv), bytes);
        var audit = Assert.Single(Audit(DatasetPrivacy.RawDownloadedAction));
        Assert.Equal("dataset:people:v1", audit.Subject);
        Assert.Contains($"training worker of run {runId}", audit.Details);

        // Its token is no pass to other datasets at all: they answer as if they did not exist.
        var others = await worker.GetAsync($"/api/v1/datasets/{other.GetProperty("datasetId").GetInt32()}/versions/1/files/data.csv");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, others.StatusCode);
        Assert.DoesNotContain("user0@example.com", await others.Content.ReadAsStringAsync());
        Assert.Single(Audit(DatasetPrivacy.RawDownloadedAction));
    }

    [Fact]
    public async Task A_version_without_sensitive_columns_downloads_raw_to_anyone_and_is_not_audited()
    {
        var csv = TestData.SeparableCsv(50);
        var version = await UploadAsync("points", csv);
        var viewer = Client(maySeeRaw: false);
        var bytes = await viewer.GetByteArrayAsync($"/api/v1/datasets/{version.GetProperty("datasetId").GetInt32()}/versions/1/files/data.csv");
        Assert.Equal(Encoding.UTF8.GetBytes(csv), bytes);
        Assert.Empty(Audit(DatasetPrivacy.RawDownloadedAction));
    }

    [Fact]
    public async Task The_upload_preview_shows_the_uploaders_own_values_unmasked()
    {
        var viewer = Client(maySeeRaw: false);
        var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(PeopleCsv())), "file", "people.csv" } };
        var response = await viewer.PostAsync("/api/v1/datasets/csv/preview", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        Assert.Contains("user0@example.com", body);
        Assert.Contains("\"personalData\":\"email\"", body);
    }

    [Fact]
    public async Task Marking_columns_changes_what_is_masked_for_every_version_and_is_audited()
    {
        var version = await UploadAsync("people", PeopleCsv());
        var id = version.GetProperty("datasetId").GetInt32();

        var marked = await _http.PutAsJsonAsync($"/api/v1/datasets/{id}/columns/amount/sensitive", new { sensitive = true });
        Assert.Equal(HttpStatusCode.OK, marked.StatusCode);
        var view = await marked.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("amount", view.GetProperty("column").GetString());
        Assert.True(view.GetProperty("sensitive").GetBoolean());
        var unmarked = await _http.PutAsJsonAsync($"/api/v1/datasets/{id}/columns/email/sensitive", new { sensitive = false });
        Assert.Equal(HttpStatusCode.OK, unmarked.StatusCode);
        Assert.Equal(PersonalDataKinds.Email, (await unmarked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("personalData").GetString());

        // A second version keeps the marks: they are the dataset's.
        await UploadAsync("people", PeopleCsv(12));
        var dataset = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}");
        foreach (var v in dataset.GetProperty("versions").EnumerateArray())
        {
            var columns = Columns(v);
            Assert.True(columns["amount"].GetProperty("sensitive").GetBoolean());
            Assert.False(columns["email"].GetProperty("sensitive").GetBoolean());
            Assert.True(columns["card"].GetProperty("sensitive").GetBoolean());
        }

        var text = await Client(maySeeRaw: false).GetStringAsync($"/api/v1/datasets/{id}/versions/2/files/data.csv");
        var first = text.Split('\n')[1];
        Assert.Equal($"1,user0@example.com,**** **** **** {Card(0).Replace(" ", "")[^4..]},{Masking.Other},yes", first);

        var audit = Audit(DatasetPrivacy.MarkedAction);
        Assert.Equal(["amount: sensitive", "email: not sensitive"], audit.Select(a => a.Details!));
        Assert.All(audit, a => Assert.Equal("dataset:people", a.Subject));
        var rows = _portal.Db(db => db.DatasetSensitiveColumns.Where(m => m.DatasetId == id).OrderBy(m => m.Column).Select(m => new { m.Column, m.Sensitive }).ToList());
        Assert.Equal([("amount", true), ("email", false)], rows.Select(r => (r.Column, r.Sensitive)));

        // Marking again updates the one row.
        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsJsonAsync($"/api/v1/datasets/{id}/columns/email/sensitive", new { sensitive = true })).StatusCode);
        Assert.Equal(2, _portal.Db(db => db.DatasetSensitiveColumns.Count(m => m.DatasetId == id)));
        Assert.Equal(PersonalDataKinds.Email, Detected(Columns((await _http.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}")).GetProperty("versions")[0])["email"]));
    }

    [Fact]
    public async Task Marking_a_column_the_dataset_lacks_or_without_a_body_is_a_problem()
    {
        var version = await UploadAsync("people", PeopleCsv());
        var id = version.GetProperty("datasetId").GetInt32();
        var problem = await HttpAssert.ProblemAsync(
            await _http.PutAsJsonAsync($"/api/v1/datasets/{id}/columns/salary/sensitive", new { sensitive = true }), 400,
            "Column 'salary' is not a column of dataset 'people' (v1); the columns are: id, email, card, amount, label.");
        Assert.Equal("column", problem.GetProperty("field").GetString());
        await HttpAssert.ProblemAsync(
            await _http.PutAsync($"/api/v1/datasets/{id}/columns/email/sensitive", new StringContent("{}", Encoding.UTF8, "application/json")), 400,
            "\"sensitive\": true or false");
        await HttpAssert.ProblemAsync(await _http.PutAsJsonAsync("/api/v1/datasets/999/columns/email/sensitive", new { sensitive = true }), 404, "Dataset 999");
        Assert.Empty(Audit(DatasetPrivacy.MarkedAction));

        var zh = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/datasets/{id}/columns/salary/sensitive") { Content = JsonContent.Create(new { sensitive = true }) };
        zh.Headers.AcceptLanguage.ParseAdd("zh-CN");
        await HttpAssert.ProblemAsync(await _http.SendAsync(zh), 400, "不是数据集");
    }

    [Fact]
    public void An_old_profile_without_personal_data_still_reads()
    {
        const string old = """
            {"kind":"csv","rows":2,"columns":[
              {"name":"email","type":"categorical","missing":0,"distinct":2,"min":null,"max":null,"mean":null,"topValues":["a@x.org","b@x.org"],"missingShare":0},
              {"name":"label","type":"label","missing":0,"distinct":2,"min":null,"max":null,"mean":null,"topValues":["p","q"]}],
             "labelColumn":"label","classCounts":{"p":1,"q":1},"previewRows":[["a@x.org","p"],["b@x.org","q"]],
             "classNames":["p","q"],"testRows":null,"imageShape":null}
            """;
        var profile = DatasetIngest.ReadProfile(new DatasetVersion
        {
            Kind = DatasetKinds.Csv, Sha256 = "", ProfileJson = old, StoragePath = "", OriginalFileName = "", CreatedBy = "",
        });
        Assert.All(profile.Columns, c => Assert.Null(c.PersonalData));
        Assert.All(profile.Columns, c => Assert.Null(c.Sensitive));
        Assert.Empty(DatasetPrivacy.Sensitive(profile, new Dictionary<string, bool>()));
        Assert.Equal(["email"], DatasetPrivacy.Sensitive(profile, new Dictionary<string, bool> { ["email"] = true }));
        // Not written when null: a profile stored today without personal data looks like an old one.
        Assert.DoesNotContain("personalData", JsonSerializer.Serialize(profile, DatasetIngest.Json));
        Assert.DoesNotContain("sensitive", JsonSerializer.Serialize(profile, DatasetIngest.Json));
    }

    [Fact]
    public async Task An_old_version_in_the_store_is_served_with_nothing_flagged_until_marked()
    {
        var version = await UploadAsync("people", PeopleCsv());
        var id = version.GetProperty("datasetId").GetInt32();
        // As a version profiled before the check: no personalData in its JSON.
        _portal.Db(db =>
        {
            var v = db.DatasetVersions.Single(x => x.DatasetId == id);
            var node = System.Text.Json.Nodes.JsonNode.Parse(v.ProfileJson)!;
            foreach (var c in node["columns"]!.AsArray()) c!.AsObject().Remove("personalData");
            v.ProfileJson = node.ToJsonString();
            return db.SaveChanges();
        });
        var viewer = Client(maySeeRaw: false);
        Assert.Contains("user0@example.com", await viewer.GetStringAsync($"/api/v1/datasets/{id}/versions/1/files/data.csv"));
        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsJsonAsync($"/api/v1/datasets/{id}/columns/email/sensitive", new { sensitive = true })).StatusCode);
        var text = await viewer.GetStringAsync($"/api/v1/datasets/{id}/versions/1/files/data.csv");
        Assert.DoesNotContain("user0@example.com", text);
        Assert.StartsWith($"id,email,card,amount,label\n1,{Masking.Other},4000 0000", text); // marked, of no detected kind: no shape kept
    }
}
