using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

public sealed class DatasetUploadTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;

    public DatasetUploadTests() => _http = _portal.CreateClient();

    public void Dispose() => _portal.Dispose();

    private Task<HttpResponseMessage> UploadCsv(string name, byte[] content, string fileName = "data.csv", string? label = null)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(name), "name" },
            { new ByteArrayContent(content), "file", fileName },
        };
        if (label is not null) form.Add(new StringContent(label), "labelColumn");
        return _http.PostAsync("/api/v1/datasets/csv", form);
    }

    private void AssertNothingStored()
    {
        Assert.Equal(0, _portal.Db(db => db.Datasets.Count()));
        Assert.Equal(0, _portal.Db(db => db.DatasetVersions.Count()));
        Assert.Empty(_portal.DataFiles());
    }

    [Fact]
    public async Task UploadCsv_ValidFile_RecordsProfiledImmutableVersion()
    {
        var csv = Encoding.UTF8.GetBytes(TestData.SeparableCsv(200));
        var response = await UploadCsv("points", csv);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var version = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, version.GetProperty("version").GetInt32());
        Assert.Equal(200, version.GetProperty("rows").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(csv)), version.GetProperty("sha256").GetString());
        var profile = version.GetProperty("profile");
        var types = profile.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("type").GetString());
        Assert.Equal("numeric", types["x"]);
        Assert.Equal("categorical", types["colour"]);
        Assert.Equal("label", types["label"]);
        var classes = profile.GetProperty("classCounts");
        Assert.Equal(200, classes.GetProperty("high").GetInt32() + classes.GetProperty("low").GetInt32());
        Assert.Equal(20, profile.GetProperty("previewRows").GetArrayLength());

        // Stored under ids, byte for byte; a second upload of the same name is version 2.
        var stored = Path.Combine(_portal.DataDirectory, "datasets", version.GetProperty("datasetId").GetInt32().ToString(), "v1", "data.csv");
        Assert.Equal(csv, await File.ReadAllBytesAsync(stored));
        var second = await UploadCsv("points", csv);
        Assert.Equal(2, JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt32());
        Assert.Equal(csv, await File.ReadAllBytesAsync(stored));
    }

    public static TheoryData<string, byte[], string> MalformedFiles => new()
    {
        { "ragged row", Encoding.UTF8.GetBytes("a,b,label\n1,2,x\n3,y\n"), "Line 3 has 2 fields; the header has 3." },
        { "text in a numeric column", Encoding.UTF8.GetBytes("a,b,label\n" + string.Concat(Enumerable.Range(0, 30).Select(i => $"{i},{i * 2},{(i % 2 == 0 ? "p" : "q")}\n")) + "7,oops,p\n"), "Line 32, column 'b': 'oops' is not a number" },
        { "no such label column", Encoding.UTF8.GetBytes("a,b,c\n1,2,x\n3,4,y\n"), "Label column 'label' was not found. The columns are: a, b, c." },
        { "empty file", [], "The file is empty." },
        { "header only", Encoding.UTF8.GetBytes("a,b,label\n"), "no data rows" },
        { "invalid UTF-8", [.. Encoding.UTF8.GetBytes("a,b,label\n1,2,"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\n3,4,y\n")], "not valid UTF-8" },
        { "one class only", Encoding.UTF8.GetBytes("a,b,label\n1,2,x\n3,4,x\n"), "at least two classes" },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public async Task UploadCsv_MalformedFile_Is422NamingTheProblemAndLeavesNothing(string why, byte[] content, string expected)
    {
        var label = why == "no such label column" ? "label" : null;
        var response = await UploadCsv("bad", content, label: label);
        await HttpAssert.ProblemAsync(response, 422, expected);
        AssertNothingStored();
    }

    [Theory]
    [InlineData("../escape.csv")]
    [InlineData("nested/dir.csv")]
    [InlineData("..\\windows.csv")]
    [InlineData("..")]
    public async Task UploadCsv_FileNameWithPath_Is400AndLeavesNothing(string fileName)
    {
        var response = await UploadCsv("hostile", Encoding.UTF8.GetBytes(TestData.SeparableCsv(10)), fileName);
        await HttpAssert.ProblemAsync(response, 400, "is not allowed");
        AssertNothingStored();
    }

    [Theory]
    [InlineData("../../etc", "Dataset name '../../etc' is not allowed")]
    [InlineData("a/b", "Dataset name 'a/b' is not allowed")]
    [InlineData("", "A dataset name is required.")]
    public async Task UploadCsv_HostileDatasetName_Is400(string name, string expected)
    {
        var response = await UploadCsv(name, Encoding.UTF8.GetBytes(TestData.SeparableCsv(10)));
        var problem = await HttpAssert.ProblemAsync(response, 400, expected);
        Assert.Equal("name", problem.GetProperty("field").GetString());
        AssertNothingStored();
    }

    [Fact]
    public async Task UploadCsv_OverTheSizeLimit_Is413AndLeavesNothing()
    {
        using var small = new PortalFactory().With("ModelOps:MaxUploadBytes", "4096");
        var http = small.CreateClient();
        var form = new MultipartFormDataContent
        {
            { new StringContent("big"), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(TestData.SeparableCsv(2000))), "file", "big.csv" },
        };
        var response = await http.PostAsync("/api/v1/datasets/csv", form);
        await HttpAssert.ProblemAsync(response, 413, "larger than the limit of 4 KiB");
        Assert.Equal(0, small.Db(db => db.DatasetVersions.Count()));
        Assert.Empty(small.DataFiles());
    }

    [Fact]
    public async Task UploadIdx_ValidFiles_ProfilesClassesAndServesSampleImages()
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("bands"), "name" },
            { new StringContent("top,middle,bottom"), "classNames" },
            { new ByteArrayContent(TestData.IdxImages(30)), "trainImages", "train-images-idx3-ubyte.gz" },
            { new ByteArrayContent(TestData.IdxLabels(30)), "trainLabels", "train-labels-idx1-ubyte.gz" },
            { new ByteArrayContent(TestData.IdxImages(9, gzip: false)), "testImages", "t10k-images-idx3-ubyte" },
            { new ByteArrayContent(TestData.IdxLabels(9, gzip: false)), "testLabels", "t10k-labels-idx1-ubyte" },
        };
        var response = await _http.PostAsync("/api/v1/datasets/idx", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var version = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(30, version.GetProperty("rows").GetInt32());
        Assert.Equal(9, version.GetProperty("profile").GetProperty("testRows").GetInt32());
        Assert.Equal(10, version.GetProperty("profile").GetProperty("classCounts").GetProperty("middle").GetInt32());

        var id = version.GetProperty("datasetId").GetInt32();
        var samples = JsonDocument.Parse(await _http.GetStringAsync($"/api/v1/datasets/{id}/versions/1/samples?count=4")).RootElement;
        Assert.Equal(["top", "middle", "bottom", "top"], samples.EnumerateArray().Select(s => s.GetProperty("label").GetString()));
        var png = await _http.GetByteArrayAsync($"/api/v1/datasets/{id}/versions/1/samples/1.png");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public async Task UploadCsv_WithByteOrderMark_KeepsTheFirstColumnNameClean()
    {
        var csv = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(TestData.SeparableCsv(40))).ToArray();
        var response = await UploadCsv("excel-export", csv);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var columns = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("profile").GetProperty("columns");
        Assert.Equal("x", columns[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task UploadIdx_RepeatedClassNames_Is400AndLeavesNothing()
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("bands"), "name" },
            { new StringContent("top,top,bottom"), "classNames" },
            { new ByteArrayContent(TestData.IdxImages(30)), "trainImages", "images.gz" },
            { new ByteArrayContent(TestData.IdxLabels(30)), "trainLabels", "labels.gz" },
        };
        await HttpAssert.ProblemAsync(await _http.PostAsync("/api/v1/datasets/idx", form), 400, "The class names must all be different.");
        AssertNothingStored();
    }

    [Fact]
    public async Task UploadIdx_TruncatedImages_Is422AndLeavesNothing()
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("cut"), "name" },
            { new ByteArrayContent(TestData.IdxImages(20, declaredCount: 25)), "trainImages", "images.gz" },
            { new ByteArrayContent(TestData.IdxLabels(25)), "trainLabels", "labels.gz" },
        };
        var response = await _http.PostAsync("/api/v1/datasets/idx", form);
        await HttpAssert.ProblemAsync(response, 422, "is truncated: the header declares 25 items but the body holds 20");
        AssertNothingStored();
    }

    [Fact]
    public async Task DownloadFile_NameOutsideTheKnownFiles_Is400()
    {
        await UploadCsv("points", Encoding.UTF8.GetBytes(TestData.SeparableCsv(20)));
        var response = await _http.GetAsync("/api/v1/datasets/1/versions/1/files/..%2F..%2Fmodelops.db");
        await HttpAssert.ProblemAsync(response, 400, "is not a dataset file name");
    }
}
