using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Engine.Training;
using ModelOps.Portal.Datasets;

namespace ModelOps.Portal.Tests;

/// <summary>
/// CSV uploads whose line 1 is not a header (header=skip, header=data, explicit column names), and
/// uploads with missing cells, whose profile counts them per column.
/// </summary>
public sealed class CsvHeaderAndMissingValueTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;

    public CsvHeaderAndMissingValueTests() => _http = _portal.CreateClient();

    public void Dispose() => _portal.Dispose();

    /// <summary>Rows like scikit-learn's iris.csv: four measurements and a class id 0, 1 or 2 that the measurements separate.</summary>
    private static string IrisRows(int n = 60)
    {
        var text = new StringBuilder();
        for (var i = 0; i < n; i++)
        {
            var c = i % 3;
            var jitter = (i % 7) * 0.05;
            text.Append(CultureInfo.InvariantCulture, $"{4.8 + c * 1.1 + jitter},{3.4 - c * 0.3 + jitter},{1.4 + c * 2.0 + jitter},{0.2 + c * 0.9},{c}\n");
        }
        return text.ToString();
    }

    private static string IrisFile(int n = 60) => $"{n},4,setosa,versicolor,virginica\n" + IrisRows(n);

    private Task<HttpResponseMessage> Post(string path, string csv, string? header = null, string? columnNames = null, string? label = null, string name = "iris")
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(name), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", "iris.csv" },
        };
        if (header is not null) form.Add(new StringContent(header), "header");
        if (columnNames is not null) form.Add(new StringContent(columnNames), "columnNames");
        if (label is not null) form.Add(new StringContent(label), "labelColumn");
        return _http.PostAsync(path, form);
    }

    private Task<HttpResponseMessage> Upload(string csv, string? header = null, string? columnNames = null, string? label = null) =>
        Post("/api/v1/datasets/csv", csv, header, columnNames, label);

    private void AssertNothingStored()
    {
        Assert.Equal(0, _portal.Db(db => db.DatasetVersions.Count()));
        Assert.Empty(_portal.DataFiles());
    }

    private static JsonElement Json(string body) => JsonDocument.Parse(body).RootElement.Clone();

    private string StoredCsv(JsonElement version) =>
        Path.Combine(_portal.DataDirectory, "datasets", version.GetProperty("datasetId").GetInt32().ToString(CultureInfo.InvariantCulture), "v1", "data.csv");

    [Fact]
    public async Task IrisCountsLine_WithSkipFirstRow_UploadsWithGeneratedNamesAndTrains()
    {
        var response = await Upload(IrisFile(), header: "skip");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var version = Json(await response.Content.ReadAsStringAsync());
        var profile = version.GetProperty("profile");
        Assert.Equal(60, version.GetProperty("rows").GetInt32());
        Assert.Equal(["column_1", "column_2", "column_3", "column_4", "column_5"],
            profile.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal("column_5", version.GetProperty("labelColumn").GetString());
        Assert.Equal(["0", "1", "2"], profile.GetProperty("classNames").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("SkipFirstRow", profile.GetProperty("headerMode").GetString());
        Assert.Equal("60,4,setosa,versicolor,virginica", profile.GetProperty("skippedFirstLine").GetString());

        // The stored file has the names as its header and the data rows; its hash is the stored file's.
        var stored = StoredCsv(version);
        var bytes = await File.ReadAllBytesAsync(stored);
        Assert.Equal("column_1,column_2,column_3,column_4,column_5\n" + IrisRows(), Encoding.UTF8.GetString(bytes));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), version.GetProperty("sha256").GetString());
        Assert.Equal(bytes.Length, version.GetProperty("sizeBytes").GetInt64());

        // Train-ready: the engine trains on the stored version as the worker would.
        var work = Path.Combine(_portal.DataDirectory, "train-check");
        var result = Trainer.Train(new TrainingOptions { Epochs = 2, Device = "cpu", BatchSize = 16, HiddenLayers = [8] },
            new DatasetFiles { Kind = "csv", CsvPath = stored, LabelColumn = "column_5" }, work, NullTrainingObserver.Instance, null, CancellationToken.None);
        Assert.Equal(["0", "1", "2"], result.Evaluation.ClassNames);
    }

    [Fact]
    public async Task PlainData_WithFirstRowIsData_KeepsLineOneAsARow_AndTakesGivenNames()
    {
        var response = await Upload(IrisRows(), header: "data", columnNames: "sepal_length, sepal_width,petal_length,petal_width,species");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var version = Json(await response.Content.ReadAsStringAsync());
        Assert.Equal(60, version.GetProperty("rows").GetInt32());
        Assert.Equal("species", version.GetProperty("labelColumn").GetString());
        var first = version.GetProperty("profile").GetProperty("previewRows")[0];
        Assert.Equal(IrisRows().Split('\n')[0].Split(','), first.EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("sepal_length,sepal_width,petal_length,petal_width,species\n" + IrisRows(), await File.ReadAllTextAsync(StoredCsv(version)));
    }

    [Fact]
    public async Task PlainData_WithFirstRowIsDataAndNoNames_GetsGeneratedNames()
    {
        var response = await Upload(IrisRows(), header: "data");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var version = Json(await response.Content.ReadAsStringAsync());
        Assert.Equal(60, version.GetProperty("rows").GetInt32());
        Assert.Equal("column_5", version.GetProperty("labelColumn").GetString());
    }

    [Fact]
    public async Task IrisCountsLine_WithTheDefault_SaysLineOneMayNotBeAHeaderAndWhatToChoose()
    {
        var response = await Upload(IrisFile());
        await HttpAssert.ProblemAsync(response, 422,
            "Line 1 does not look like a header: '60', '4' are numbers, not column names. If line 1 describes the file (such as a row count and class names, as in scikit-learn's iris.csv), upload again with the header option \"skip the first row\" (header=skip); if it is already data, choose \"the first row is data\" (header=data).");
        AssertNothingStored();
    }

    [Fact]
    public async Task DescriptionLineOfOtherWidth_WithTheDefault_SaysLineOneMayNotBeAHeader()
    {
        var wide = string.Join(",", Enumerable.Range(0, 31).Select(i => (i % 2).ToString(CultureInfo.InvariantCulture)));
        var response = await Upload($"breast cancer,wisconsin,diagnostic,data\n{wide}\n{wide}\n");
        await HttpAssert.ProblemAsync(response, 422,
            "Line 2 has 31 fields; the header has 4. Line 1 may not be a header: if it describes the file (such as a row count and class names, as in scikit-learn's iris.csv), upload again with the header option \"skip the first row\" (header=skip)");
        AssertNothingStored();
    }

    public static TheoryData<string, string, string> BadNames => new()
    {
        { "skip", "a,,c,d,e", "Column name 2 is empty; every column needs a name." },
        { "skip", "a,b,a,d,e", "The column name 'a' is given twice (names 1 and 3); the names must all be different." },
        { "skip", "a,b,c", "3 column names were given, but line 2 has 5 fields; give one name per field." },
        { "data", "a,b,c,d,e,f", "6 column names were given, but line 1 has 5 fields; give one name per field." },
        { "first", "a,b,c", "3 column names were given, but the header (line 1) has 5 fields; give one name per field." },
        { "skip", "[\"a\",\"b\\tc\",\"d\",\"e\",\"f\"]", "Column name 2 ('b c') holds a control character such as a tab or a line break; use printable characters only." },
        { "skip", "[\"a\", 3]", "are not a JSON array of strings" },
        { "sideways", "", "Header option 'sideways' is unknown; use first (line 1 is the header), skip (line 1 describes the file; the data starts on line 2) or data (there is no header line)." },
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task BadColumnNamesOrHeaderOption_Are400WithASentenceAndStoreNothing(string header, string names, string expected)
    {
        var response = await Upload(IrisFile(), header, names.Length == 0 ? null : names);
        var problem = await HttpAssert.ProblemAsync(response, 400, expected);
        Assert.Equal(header == "sideways" ? "header" : "columnNames", problem.GetProperty("field").GetString());
        AssertNothingStored();
    }

    [Fact]
    public async Task Preview_ShowsGeneratedNamesTypesAndRowsAndStoresNothing()
    {
        var response = await Post("/api/v1/datasets/csv/preview", IrisFile(), header: "skip", name: "");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var profile = Json(await response.Content.ReadAsStringAsync());
        Assert.Equal("column_5", profile.GetProperty("labelColumn").GetString());
        Assert.Equal(["numeric", "numeric", "numeric", "numeric", "label"],
            profile.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("type").GetString()));
        Assert.Equal(20, profile.GetProperty("previewRows").GetArrayLength());
        AssertNothingStored();
    }

    [Fact]
    public async Task Preview_IsTheServiceCallTheUploadFormCanMake()
    {
        var profile = await _portal.InScopeAsync(services => services.GetRequiredService<DatasetIngest>().PreviewCsvAsync(
            "iris.csv", new MemoryStream(Encoding.UTF8.GetBytes(IrisRows())),
            new CsvUploadOptions { Header = CsvHeaderMode.FirstRowIsData, ColumnNames = ["a", "b", "c", "d", "kind"] }, CancellationToken.None));
        Assert.Equal(["a", "b", "c", "d", "kind"], profile.Columns.Select(c => c.Name));
        Assert.Equal("kind", profile.LabelColumn);
        AssertNothingStored();
    }

    [Fact]
    public async Task BlanksAndMissingTokens_Upload_AndTheProfileCountsThemPerColumn()
    {
        var csv = new StringBuilder("width,colour,label\n");
        string[] tokens = ["", "NA", "?", "NaN", "null", "N/A", "n/a", "NULL", "nan"];
        for (var i = 0; i < 40; i++)
        {
            var width = i % 4 == 1 ? tokens[i % tokens.Length] : (i * 0.5).ToString(CultureInfo.InvariantCulture);
            var colour = i % 10 == 3 ? tokens[(i + 1) % tokens.Length] : i % 2 == 0 ? "red" : "blue";
            csv.Append(CultureInfo.InvariantCulture, $"{width},{colour},{(i % 3 == 0 ? "yes" : "no")}\n");
        }
        var response = await Upload(csv.ToString());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var columns = Json(await response.Content.ReadAsStringAsync()).GetProperty("profile").GetProperty("columns")
            .EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal("numeric", columns["width"].GetProperty("type").GetString()); // the tokens do not make it text
        Assert.Equal(10, columns["width"].GetProperty("missing").GetInt32());
        Assert.Equal(0.25, columns["width"].GetProperty("missingShare").GetDouble());
        Assert.Equal(0, columns["width"].GetProperty("min").GetDouble());
        Assert.Equal("categorical", columns["colour"].GetProperty("type").GetString());
        Assert.Equal(4, columns["colour"].GetProperty("missing").GetInt32());
        Assert.Equal(0.1, columns["colour"].GetProperty("missingShare").GetDouble());
        Assert.Equal(["blue", "red"], columns["colour"].GetProperty("topValues").EnumerateArray().Select(v => v.GetString()).Order());
        Assert.Equal(0, columns["label"].GetProperty("missing").GetInt32());
        Assert.Equal(0, columns["label"].GetProperty("missingShare").GetDouble());
    }

    [Fact]
    public async Task AColumnWithNoValues_Is422WithASentence()
    {
        var response = await Upload("a,empty,label\n1,,x\n2,NA,y\n3,,x\n");
        await HttpAssert.ProblemAsync(response, 422, "Column 'empty' has no values: all 3 cells are missing (empty or NA, N/A, n/a, NaN, nan, null, NULL, ?). Remove the column or fill it.");
        AssertNothingStored();
    }

    [Fact]
    public async Task AMissingLabelToken_Is422NamingTheLine()
    {
        var response = await Upload("a,b,label\n1,2,x\n3,4,NA\n5,6,y\n");
        await HttpAssert.ProblemAsync(response, 422, "Line 3, label column 'label': the label is missing ('NA' counts as a missing value). Every example needs its label.");
        AssertNothingStored();
    }
}
