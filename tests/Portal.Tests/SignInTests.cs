using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// The sign-in form for real: antiforgery, lockout, the rate limit's 429 with Retry-After, a session that
/// outlives a restart (Data Protection keys in the data folder), and the headers every page carries.
/// </summary>
public sealed class SignInTests
{
    /// <summary>A browser: cookies, no redirects followed, and none of the factory's token.</summary>
    private static HttpClient Browser(PortalFactory portal)
    {
        var client = portal.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string user, string password)
    {
        var page = await client.GetStringAsync("/login");
        var token = Regex.Match(page, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        return await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["userName"] = user, ["password"] = password, ["returnUrl"] = "/experiments",
        }));
    }

    [Fact]
    public async Task A_session_from_the_form_outlives_a_restart_and_a_form_without_its_token_is_refused()
    {
        using var data = new TempFolder();
        string cookie;
        using (var portal = PortalFactory.Over(data.Path))
        {
            var client = Browser(portal);
            // Without the antiforgery token the post is refused and signs nobody in.
            var forged = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["userName"] = PortalFactory.AdminName, ["password"] = PortalFactory.AdminPassword,
            }));
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

            var signedIn = await SignInAsync(client, PortalFactory.AdminName, PortalFactory.AdminPassword);
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
            Assert.Equal("/experiments", signedIn.Headers.Location?.ToString());
            var setCookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("mop.auth=", StringComparison.Ordinal));
            Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
            cookie = setCookie.Split(';')[0];
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/experiments")).StatusCode);
            Assert.True(Directory.EnumerateFiles(Path.Combine(data.Path, "keys"), "key-*.xml").Any());
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using (var restarted = PortalFactory.Over(data.Path))
        {
            var client = restarted.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
            client.DefaultRequestHeaders.Authorization = null;
            client.DefaultRequestHeaders.Add("Cookie", cookie);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/experiments")).StatusCode);
        }
    }

    [Fact]
    public async Task Wrong_passwords_lock_the_user_and_too_many_attempts_answer_429_with_retry_after()
    {
        using var portal = new PortalFactory().With("ModelOps:Auth:SignInsPerMinute", "7").With("ModelOps:Auth:MaxFailedSignIns", "3");
        var client = Browser(portal);
        for (var i = 0; i < 2; i++)
            Assert.Contains("error=invalid", (await SignInAsync(client, PortalFactory.AdminName, "wrong-password-" + i)).Headers.Location?.ToString());
        // The third failure locks the user; then even the right password is refused for now.
        Assert.Contains("error=locked", (await SignInAsync(client, PortalFactory.AdminName, "wrong-password-2")).Headers.Location?.ToString());
        Assert.Contains("error=locked", (await SignInAsync(client, PortalFactory.AdminName, PortalFactory.AdminPassword)).Headers.Location?.ToString());
        HttpResponseMessage last;
        var attempts = 4;
        do
        {
            last = await SignInAsync(client, PortalFactory.AdminName, PortalFactory.AdminPassword);
            attempts++;
        }
        while (last.StatusCode != HttpStatusCode.TooManyRequests && attempts < 20);
        Assert.Equal(HttpStatusCode.TooManyRequests, last.StatusCode);
        // The limit is 7 a minute from one address: the 8th attempt is refused.
        Assert.Equal(8, attempts);
        Assert.True(int.Parse(last.Headers.GetValues("Retry-After").Single()) is > 0 and <= 60);
        await HttpAssert.ProblemAsync(last, 429, "Too many attempts");
    }

    [Fact]
    public async Task Pages_carry_a_content_security_policy_and_the_api_says_nosniff()
    {
        using var portal = new PortalFactory();
        var client = Browser(portal);
        var login = await client.GetAsync("/login");
        var policy = string.Join(";", login.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.DoesNotContain("unsafe-eval", policy);
        Assert.Equal("nosniff", (await portal.CreateClient().GetAsync("/api/v1/experiments")).Headers.GetValues("X-Content-Type-Options").Single());
        // A page without a session goes to sign in, with the way back.
        var page = await Browser(portal).GetAsync("/models");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Contains("/login?ReturnUrl=%2Fmodels", page.Headers.Location?.ToString());
    }
}
