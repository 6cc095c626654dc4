using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Demo;

namespace ModelOps.Portal.Tests;

/// <summary>Text datasets: a CSV with a label and a free-text column, registered as kind text and handed to text templates.</summary>
public sealed class TextDatasetTests : IDisposable
{
    private readonly PortalFactory _portal = new();
    private readonly HttpClient _http;

    public TextDatasetTests() => _http = _portal.CreateClient();

    public void Dispose() => _portal.Dispose();

    private Task<HttpResponseMessage> Upload(string csv, string? kind = "text", string? textColumn = null, string? label = null)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("reviews"), "name" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", "reviews.csv" },
        };
        if (kind is not null) form.Add(new StringContent(kind), "kind");
        if (textColumn is not null) form.Add(new StringContent(textColumn), "textColumn");
        if (label is not null) form.Add(new StringContent(label), "labelColumn");
        return _http.PostAsync("/api/v1/datasets/csv", form);
    }

    [Fact]
    public async Task A_text_csv_is_registered_as_kind_text_and_its_runs_get_the_text_column_in_the_spec()
    {
        var response = await Upload(DemoSeed.GenerateReviews(120, 3), label: "sentiment");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var version = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("text", version.GetProperty("kind").GetString());
        var profile = version.GetProperty("profile");
        Assert.Equal("text", profile.GetProperty("textColumn").GetString());
        Assert.Equal("sentiment", profile.GetProperty("labelColumn").GetString());
        Assert.Contains(profile.GetProperty("columns").EnumerateArray(), c => c.GetProperty("name").GetString() == "text" && c.GetProperty("type").GetString() == "text");

        // Tabular templates do not fit text; text-lstm does, and its spec names the text column.
        var mlp = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = 1, options = new { template = "mlp" } });
        await HttpAssert.ProblemAsync(mlp, 400, "use 'text-lstm' or 'text-cnn'");
        var created = await _http.PostAsJsonAsync("/api/v1/runs", new { datasetVersionId = 1, options = new { template = "text-lstm", maxTokens = 32, vocabularySize = 500 } });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var worker = await SimulatedWorker.BeginAsync(_portal, id);
        var spec = (await worker.Http.GetFromJsonAsync<RunSpec>($"/api/v1/runs/{id}/spec"))!;
        Assert.Equal(("text", "sentiment", "text"), (spec.Dataset.Kind, spec.Dataset.LabelColumn, spec.Dataset.TextColumn));
        Assert.Equal((32, 500), (spec.Options.MaxTokens, spec.Options.VocabularySize));
        Assert.Contains(spec.Dataset.Files, f => f.Name == "data.csv");
    }

    [Theory]
    [InlineData("label,body\npos,good stuff\nneg,bad stuff\n", "text", "Text column 'text' was not found")]
    [InlineData("label,text\npos,good stuff\n,bad stuff\n", "text", "Line 3, label column 'label': the label is missing")]
    [InlineData("label,text\npos,good stuff\nneg,\n", "text", "Line 3, text column 'text': the text is empty")]
    [InlineData("label,text\npos,1\nneg,2\n", "text", "holds only numbers")]
    [InlineData("text\nsome words\n", "text", "at least two are needed")]
    [InlineData("label,text\npos,a\nneg,b\n", "audio", "Kind 'audio' is not one")]
    public async Task Bad_text_uploads_are_refused_with_a_clear_message_and_store_nothing(string csv, string kind, string expected)
    {
        var response = await Upload(csv, kind);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True((int)response.StatusCode is 400 or 422, problem.ToString());
        Assert.Contains(expected, problem.GetProperty("detail").GetString());
        Assert.Equal(0, _portal.Db(db => db.DatasetVersions.Count()));
    }

    [Fact]
    public void The_demo_reviews_are_deterministic_balanced_and_short()
    {
        var a = DemoSeed.GenerateReviews(600, 11);
        Assert.Equal(a, DemoSeed.GenerateReviews(600, 11));
        var lines = a.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(601, lines.Length);
        var positives = lines.Skip(1).Count(l => l.StartsWith("positive,"));
        Assert.InRange(positives, 240, 360);
        Assert.All(lines.Skip(1), l => Assert.InRange(l.Split(' ').Length, 6, 17));
    }
}
