using System.Text.Json;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Serving;

namespace ModelOps.Portal.Tests;

public sealed class PredictionInputTextTests
{
    private static IReadOnlyList<JsonElement> Inputs(string json) => JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();

    [Fact]
    public void Texts_TakesStringsOrTextObjects()
    {
        var texts = PredictionInput.Texts(Inputs("""["a great film", {"text": "a dull one"}]"""));
        Assert.Equal(["a great film", "a dull one"], texts);
    }

    [Theory]
    [InlineData("""[42]""", "inputs[0]: a text model takes a string")]
    [InlineData("""["fine", {"body": "x"}]""", "inputs[1]: a text model takes a string")]
    [InlineData("""[["a", "b"]]""", "got array")]
    public void Texts_RefusesAnythingElseNamingTheInput(string json, string expected)
    {
        var ex = Assert.Throws<PortalException>(() => PredictionInput.Texts(Inputs(json)));
        Assert.Contains(expected, ex.Message);
    }
}
