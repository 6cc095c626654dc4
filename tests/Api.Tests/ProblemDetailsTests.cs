using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ModelOps.TestSupport;

namespace ModelOps.Api.Tests;

public sealed class ProblemPortal : IAsyncLifetime
{
    private readonly TempFolder _data = new();
    public PortalProcess Portal { get; private set; } = null!;
    public int RunId { get; private set; }

    public async Task InitializeAsync()
    {
        Portal = await PortalProcess.StartAsync(_data.Path, null, "--ModelOps:SeedDemoData=false", "--ModelOps:PauseDispatch=true");
        using var response = await Portal.Http.PostAsJsonAsync("/api/v1/experiments/1/runs", new { name = "problems" });
        RunId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt32();
    }

    public async Task DisposeAsync()
    {
        await Portal.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>
/// Every 4xx of the API is application/problem+json with a title and a sentence for a detail,
/// in the request's language (Accept-Language or ?culture=; English by default).
/// </summary>
public sealed class ProblemDetailsTests(ProblemPortal fixture) : IClassFixture<ProblemPortal>
{
    private HttpClient Http => fixture.Portal.Http;

    private static async Task<(string Title, string Detail)> AssertProblem(HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        var title = problem.GetProperty("title").GetString();
        var detail = problem.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrWhiteSpace(title), body);
        Assert.False(string.IsNullOrWhiteSpace(detail), body);
        Assert.True(detail!.TrimEnd().EndsWith('.') || detail.TrimEnd().EndsWith('。'), $"the detail is not a sentence: {detail}");
        return (title!, detail);
    }

    private static bool IsChinese(string text) => text.Any(c => c is >= '\u4e00' and <= '\u9fff');

    private Task<HttpResponseMessage> PostJson(string url, string json, string? language = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (language is not null) request.Headers.AcceptLanguage.Add(new StringWithQualityHeaderValue(language));
        return Http.SendAsync(request);
    }

    [Fact]
    public async Task SameBadRequest_FollowsAcceptLanguage_AndTheCultureQuery()
    {
        var url = $"/api/v1/runs/{fixture.RunId}/log-batch";
        const string body = """{"metrics":[{"key":"loss","value":1}],"params":[{"key":"bad key!","value":"1"}]}""";

        var (enTitle, enDetail) = await AssertProblem(await PostJson(url, body), 400);
        Assert.Equal("Invalid request", enTitle);
        Assert.StartsWith("params[0]: key 'bad key!' is not allowed", enDetail);

        var (zhTitle, zhDetail) = await AssertProblem(await PostJson(url, body, "zh-CN"), 400);
        Assert.Equal("请求无效", zhTitle);
        Assert.True(IsChinese(zhDetail), zhDetail);
        Assert.Contains("bad key!", zhDetail);

        var (queryTitle, queryDetail) = await AssertProblem(await PostJson(url + "?culture=zh-CN", body), 400);
        Assert.Equal(zhTitle, queryTitle);
        Assert.Equal(zhDetail, queryDetail);

        var (_, notFound) = await AssertProblem(await Http.GetAsync("/api/v1/runs/987654?culture=zh-CN"), 404);
        Assert.Equal("未找到运行 987654。", notFound);
        var (_, english) = await AssertProblem(await Http.GetAsync("/api/v1/runs/987654"), 404);
        Assert.Equal("Run 987654 was not found.", english);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("zh-CN")]
    public async Task NaNLiteral_IsASentenceNamingIt(string? language)
    {
        var response = await PostJson($"/api/v1/runs/{fixture.RunId}/log-batch", """{"metrics":[{"key":"a","value":NaN}]}""", language);
        var (_, detail) = await AssertProblem(response, 400);
        Assert.Contains("NaN", detail);
        if (language is null)
            Assert.Equal("NaN is not a number JSON accepts; send null or leave the field out (line 1, position 32).", detail);
        else
            Assert.True(IsChinese(detail), detail);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("zh-CN")]
    public async Task MalformedJson_IsASentenceWithItsPosition(string? language)
    {
        var (title, detail) = await AssertProblem(await PostJson("/api/v1/experiments/1/runs", """{"name":""", language), 400);
        if (language is null)
        {
            Assert.Equal("Invalid request", title);
            Assert.StartsWith("The request body is not valid JSON: ", detail);
            Assert.EndsWith("(line 1, position 9).", detail);
        }
        else
        {
            Assert.True(IsChinese(title) && IsChinese(detail), detail);
        }
    }

    [Fact]
    public async Task WrongTypeForAField_NamesTheField()
    {
        var (_, detail) = await AssertProblem(await PostJson($"/api/v1/runs/{fixture.RunId}/log-batch", """{"metrics":[{"key":"a","value":1,"step":"x"}]}"""), 400);
        Assert.Contains("'metrics[0].step'", detail);
        Assert.Contains("line 1", detail);
        var (_, zh) = await AssertProblem(await PostJson($"/api/v1/runs/{fixture.RunId}/log-batch", """{"metrics":[{"key":"a","value":1,"step":"x"}]}""", "zh-CN"), 400);
        Assert.Contains("metrics[0].step", zh);
        Assert.True(IsChinese(zh), zh);
    }

    [Fact]
    public async Task EmptyBody_AndWrongContentType_AreSentences()
    {
        using var empty = new HttpRequestMessage(HttpMethod.Post, "/api/v1/experiments/1/runs") { Content = new StringContent("", Encoding.UTF8, "application/json") };
        await AssertProblem(await Http.SendAsync(empty), 400);
        await AssertProblem(await Http.PostAsync("/api/v1/experiments/1/runs", new StringContent("name=x", Encoding.UTF8, "text/plain")), 415);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("zh-CN")]
    public async Task UnknownRoute_Is404Problem(string? language)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/no-such-thing");
        if (language is not null) request.Headers.AcceptLanguage.Add(new StringWithQualityHeaderValue(language));
        var (title, detail) = await AssertProblem(await Http.SendAsync(request), 404);
        Assert.Contains("/api/v1/no-such-thing", detail);
        Assert.Equal(language is null ? "Not found" : "未找到", title);
    }

    [Fact]
    public async Task RouteValueOfTheWrongType_Is404Problem()
    {
        // {id:int} does not match "abc", so no endpoint answers: a 404 with a sentence, not an empty body.
        await AssertProblem(await Http.GetAsync("/api/v1/runs/abc"), 404);
    }

    [Fact]
    public async Task WrongMethod_Is405Problem_NamingTheAllowedOnes()
    {
        var response = await Http.DeleteAsync("/api/v1/experiments");
        var (title, detail) = await AssertProblem(response, 405);
        Assert.Equal("Method not allowed", title);
        Assert.Contains("DELETE", detail);
        Assert.Contains("POST", detail);
    }

    [Fact]
    public async Task NulInAnArtifactPrefix_IsAProblemNamingIt()
    {
        var (_, detail) = await AssertProblem(await Http.GetAsync($"/api/v1/runs/{fixture.RunId}/artifacts?prefix=a%00b"), 400);
        Assert.Equal("The prefix contains a NUL character at position 2.", detail);
        var (_, zh) = await AssertProblem(await Http.GetAsync($"/api/v1/runs/{fixture.RunId}/artifacts?prefix=a%00b&culture=zh-CN"), 400);
        Assert.True(IsChinese(zh), zh);
    }
}
