using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Shell;

namespace ModelOps.Ui.Tests;

/// <summary>The layout: navigation in each language, the language menu, the theme switch.</summary>
public sealed class ShellTests : PortalUiTest
{
    private IRenderedComponent<MainLayout> RenderLayout() =>
        Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddMarkupContent(0, "<p id=\"page\">page</p>"))));

    [Fact]
    public void The_navigation_is_in_english_by_default()
    {
        var layout = RenderLayout();
        var nav = layout.Find("[data-testid=nav]").TextContent;
        Assert.Contains("Datasets", nav);
        Assert.Contains("Jobs queue", nav);
        Assert.NotNull(layout.Find("#page"));
    }

    [Fact]
    public void The_navigation_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        var layout = RenderLayout();
        var nav = layout.Find("[data-testid=nav]").TextContent;
        Assert.Contains("数据集", nav);
        Assert.Contains("作业队列", nav);
        Assert.DoesNotContain("Datasets", nav);
    }

    [Fact]
    public void The_theme_switch_writes_the_preference_cookie()
    {
        var layout = RenderLayout();
        layout.Find("[data-testid=theme-toggle]").Click();
        var call = Assert.Single(JSInterop.Invocations, i => i.Identifier == "portalPrefs.set");
        Assert.Equal([UiPreferences.ThemeCookie, "dark"], call.Arguments);
    }

    [Theory]
    [InlineData("en", 185, "3 min 5 s")]
    [InlineData("zh-CN", 185, "3 分 5 秒")]
    [InlineData("en", 0.25, "250 ms")]
    [InlineData("zh-CN", 7200 + 600, "2 小时 10 分")]
    public void Durations_read_naturally_in_each_language(string culture, double seconds, string expected)
    {
        UseCulture(culture);
        var text = Services.GetRequiredService<IStringLocalizer<ShellText>>();
        Assert.Equal(expected, Fmt.Duration(TimeSpan.FromSeconds(seconds), text));
    }

    [Fact]
    public void Numbers_use_the_culture_through_ICU()
    {
        UseCulture(PortalCultures.English);
        Assert.Equal("1,234,567", Fmt.Int(1_234_567));
        UseCulture(PortalCultures.Chinese);
        Assert.Equal("1,234,567", Fmt.Int(1_234_567));
        Assert.Equal("zh-CN", System.Globalization.CultureInfo.CurrentCulture.Name);
        // ICU, not invariant mode: the Chinese culture knows its own month names.
        Assert.Equal("十二月", System.Globalization.CultureInfo.CurrentCulture.DateTimeFormat.GetMonthName(12));
    }
}
