using System.Globalization;
using System.Xml.Linq;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests.Localization;

/// <summary>
/// Every error sentence the portal can say has an English key and a Chinese translation: adding
/// a PortalException without adding its template to both resx files fails here.
/// </summary>
public sealed class ErrorTextTests
{
    private static string Infrastructure => Path.Combine(PortalProcess.RepositoryRoot, "src", "Portal", "Infrastructure");

    private static Dictionary<string, string> Resx(string name) =>
        XDocument.Load(Path.Combine(Infrastructure, name)).Root!.Elements("data")
            .ToDictionary(d => (string)d.Attribute("name")!, d => (string?)d.Element("value") ?? "", StringComparer.Ordinal);

    [Fact]
    public void BothResxFiles_HaveTheSameKeys_AndEveryValueKeepsThePlaceholders()
    {
        var english = Resx("ErrorText.resx");
        var chinese = Resx("ErrorText.zh-CN.resx");

        Assert.Empty(english.Keys.Except(chinese.Keys).Order());
        Assert.Empty(chinese.Keys.Except(english.Keys).Order());
        foreach (var (key, value) in english)
        {
            Assert.Equal(key, value);
            Assert.False(string.IsNullOrWhiteSpace(chinese[key]), $"'{key}' has an empty translation.");
            Assert.True(Placeholders(key).SetEquals(Placeholders(chinese[key])),
                $"'{key}' and its translation '{chinese[key]}' do not hold the same placeholders.");
        }
    }

    [Fact]
    public void EveryTemplateInTheSources_IsAKeyOfErrorText()
    {
        var templates = ErrorTemplateScanner.Scan(Path.Combine(PortalProcess.RepositoryRoot, "src", "Portal"));
        if (Environment.GetEnvironmentVariable("ERRORTEXT_DUMP") is { Length: > 0 } dump)
            File.WriteAllLines(dump, templates.Select(t => t.Text).Distinct());
        // The scanner must keep seeing the throw sites; a regex that stopped matching would pass vacuously.
        Assert.True(templates.Count > 150, $"Only {templates.Count} templates found; is the scanner still matching the throw sites?");
        var keys = Resx("ErrorText.resx").Keys.ToHashSet(StringComparer.Ordinal);
        var missing = templates.Where(t => !keys.Contains(t.Text)).Select(t => $"{t.File}:{t.Line}: {t.Text}").Distinct().ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} error templates are not keys of ErrorText.resx (add them to both resx files):\n{string.Join("\n", missing)}");
    }

    [Fact]
    public void Scanner_WritesHolesAsTheCompilerDoes()
    {
        int line = 3, n = 2, code = 10;
        FormattableString sample = $"Line {line} has {n} fields; U+{code:X4} {{x}} at {line,5}.";
        var (text, _) = ErrorTemplateScanner.ReadLiteral("""$"Line {line} has {n} fields; U+{code:X4} {{x}} at {line,5}." """, 0);
        Assert.Equal(sample.Format, text);
    }

    [Fact]
    public void Localized_TranslatesTheTemplate_AndFallsBackToEnglish()
    {
        var runId = 42;
        var e = PortalException.NotFound($"Run {runId}");
        Assert.Equal("Run 42 was not found.", e.Message);
        Assert.Equal("Run 42 was not found.", e.Localized(CultureInfo.GetCultureInfo("en")));
        Assert.Equal("未找到运行 42。", e.Localized(CultureInfo.GetCultureInfo("zh-CN")));
        Assert.Equal("未找到", e.LocalizedTitle(CultureInfo.GetCultureInfo("zh-CN")));

        var untranslated = new PortalException(PortalError.Conflict, $"No such sentence {runId} exists in the resources.");
        Assert.Equal("No such sentence 42 exists in the resources.", untranslated.Localized(CultureInfo.GetCultureInfo("zh-CN")));
        var raw = PortalException.Invalid(ErrorMessage.Raw("An engine said {0} literally."));
        Assert.Equal("An engine said {0} literally.", raw.Localized(CultureInfo.GetCultureInfo("zh-CN")));
    }

    [Fact]
    public void InvalidAll_LocalizesEachProblem()
    {
        var e = PortalException.InvalidAll([ErrorMessage.Of($"The class names must all be different."), ErrorMessage.Raw("Epochs must be at least 1.")]);
        Assert.Equal("The class names must all be different. Epochs must be at least 1.", e.Message);
        var zh = e.LocalizedErrors(CultureInfo.GetCultureInfo("zh-CN"));
        Assert.Equal(2, zh.Count);
        Assert.DoesNotContain("class names", zh[0]);
        Assert.Equal("Epochs must be at least 1.", zh[1]);
        Assert.StartsWith(zh[0], e.Localized(CultureInfo.GetCultureInfo("zh-CN")));
    }

    [Fact]
    public void EveryTitle_IsTranslated()
    {
        var zh = CultureInfo.GetCultureInfo("zh-CN");
        foreach (var error in Enum.GetValues<PortalError>())
        {
            var e = new PortalException(error, $"The class names must all be different.");
            Assert.NotEqual(e.Title, e.LocalizedTitle(zh));
        }
        foreach (var title in new[] { "Invalid input", "Invalid JSON", "Model error", "Unexpected error", "Method not allowed", "Unsupported media type" })
            Assert.NotEqual(title, ErrorMessage.Translate(title, zh));
    }

    private static HashSet<string> Placeholders(string text) =>
        System.Text.RegularExpressions.Regex.Matches(text, @"(?<!\{)\{(\d+)[^{}]*\}").Select(m => m.Value).ToHashSet();
}
