using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Ui.Tests.Tracking;

/// <summary>The API tokens page: the list (paged in SQL), creating one (the secret shown once), revoking with a confirmation.</summary>
public sealed class TokensPageTests : TrackingUiTest
{
    private Task<CreatedToken> CreateTokenAsync(string name) =>
        InScopeAsync(sp => sp.GetRequiredService<TokenService>().CreateAsync(name, null, CancellationToken.None));

    [Fact]
    public async Task The_list_shows_existing_tokens_newest_first_without_their_secrets()
    {
        var first = await CreateTokenAsync("laptop");
        var second = await CreateTokenAsync("ci");
        var page = Render<Tokens>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=token-list] tbody tr.mud-table-row").Count));
        var rows = page.FindAll("[data-testid=token-list] tbody tr.mud-table-row");
        Assert.Contains("ci", rows[0].TextContent);
        Assert.Contains("laptop", rows[1].TextContent);
        Assert.DoesNotContain(first.Token, page.Markup);
        Assert.DoesNotContain(second.Token, page.Markup);
        Assert.Contains(first.Prefix, page.Markup);
    }

    [Fact]
    public void Creating_shows_the_secret_once_and_a_bad_name_is_explained_under_the_field()
    {
        RenderProviders();
        var page = Render<Tokens>();
        page.Find("[data-testid=token-create]").Click();
        page.WaitForAssertion(() => Assert.Contains("1-100 printable characters", page.Find("[data-testid=token-name-problem]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=token-secret]"));

        page.Find("[data-testid=token-name]").Input("notebook");
        page.Find("[data-testid=token-create]").Click();
        page.WaitForAssertion(() => Assert.StartsWith("mop_", page.Find("[data-testid=token-secret]").TextContent));
        var secret = page.Find("[data-testid=token-secret]").TextContent;
        page.WaitForAssertion(() => Assert.Contains("notebook", page.Find("[data-testid=token-list]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=token-name-problem]"));

        // A fresh visit lists it, and never shows the secret again.
        var again = Render<Tokens>();
        again.WaitForAssertion(() => Assert.Contains("notebook", again.Find("[data-testid=token-list]").TextContent));
        Assert.DoesNotContain(secret, again.Markup);
    }

    [Fact]
    public async Task Revoking_asks_first_and_cancelling_keeps_the_token()
    {
        var token = await CreateTokenAsync("old script");
        var dialogs = RenderProviders();
        var page = Render<Tokens>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=token-revoke-{token.Id}]")));

        page.Find($"[data-testid=token-revoke-{token.Id}]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("old script", dialogs.Markup));
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").Click();
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("old script", dialogs.Markup));
        Assert.Null(Db(db => db.ApiTokens.Single(t => t.Id == token.Id).RevokedAt));

        page.Find($"[data-testid=token-revoke-{token.Id}]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("old script", dialogs.Markup));
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Revoke").Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=token-revoked-{token.Id}]")));
        Assert.NotNull(Db(db => db.ApiTokens.Single(t => t.Id == token.Id).RevokedAt));
    }

    [Fact]
    public async Task The_page_speaks_chinese_in_zh_CN()
    {
        await CreateTokenAsync("laptop");
        UseCulture(PortalCultures.Chinese);
        var page = Render<Tokens>();
        page.WaitForAssertion(() => Assert.Contains("吊销", page.Find("[data-testid=token-list]").TextContent));
        Assert.Contains("创建令牌", page.Find("[data-testid=token-create]").TextContent);
        Assert.Contains("从不", page.Markup);
        Assert.DoesNotContain("Create token", page.Markup);
    }
}
