using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace ModelOps.Portal.Identity;

/// <summary>
/// The form posts of the sign-in pages (docs/identity.md). Cookie sign-in cannot happen inside an
/// interactive circuit, so the pages are static server-rendered forms that post here, with an
/// antiforgery token; each answers with a redirect, carrying an error code the page explains.
/// </summary>
public static class AccountEndpoints
{
    public static WebApplication MapAccountEndpoints(this WebApplication app)
    {
        var account = app.MapGroup("/account").ExcludeFromDescription();
        account.MapPost("/login", SignInAsync).AllowAnonymous().RequireRateLimiting(IdentitySetup.SignInLimit);
        account.MapPost("/setup", SetupAsync).AllowAnonymous().RequireRateLimiting(IdentitySetup.SignInLimit);
        account.MapPost("/logout", async (SignInManager<PortalUser> signIn) =>
        {
            await signIn.SignOutAsync();
            return Results.LocalRedirect("/login");
        });
        account.MapPost("/password", ChangePasswordAsync).RequireRateLimiting(IdentitySetup.SignInLimit);
        return app;
    }

    private static async Task<IResult> SignInAsync([FromForm] string? userName, [FromForm] string? password, [FromForm] string? returnUrl,
        SignInManager<PortalUser> signIn, UserManager<PortalUser> users)
    {
        var back = UiSetup.IsLocal(returnUrl) ? returnUrl! : "/";
        IResult Again(string error) => Results.LocalRedirect($"/login?error={error}&returnUrl={Uri.EscapeDataString(back)}");
        if (string.IsNullOrWhiteSpace(userName) || string.IsNullOrEmpty(password)) return Again("missing");
        var user = await users.FindByNameAsync(userName.Trim());
        if (user is { DisabledAt: not null }) return Again("disabled");
        var result = await signIn.PasswordSignInAsync(userName.Trim(), password, isPersistent: true, lockoutOnFailure: true);
        if (result.Succeeded) return Results.LocalRedirect(back);
        return Again(result.IsLockedOut ? "locked" : "invalid");
    }

    private static async Task<IResult> SetupAsync([FromForm] string? userName, [FromForm] string? password, [FromForm] string? confirm,
        FirstAdmin first, SignInManager<PortalUser> signIn, UserManager<PortalUser> users, CancellationToken ct)
    {
        if (!await first.NeededAsync(ct)) return Results.NotFound();
        if (password != confirm) return Results.LocalRedirect("/setup?error=mismatch");
        try
        {
            await first.CreateAdminAsync(userName ?? "", password ?? "", ct);
        }
        catch (Infrastructure.PortalException ex)
        {
            return Results.LocalRedirect($"/setup?error={(ex.Field == "userName" ? "name" : "weak")}");
        }
        await signIn.SignInAsync((await users.FindByNameAsync(userName!.Trim()))!, isPersistent: true);
        return Results.LocalRedirect("/");
    }

    private static async Task<IResult> ChangePasswordAsync([FromForm] string? current, [FromForm] string? next, [FromForm] string? confirm,
        HttpContext http, SignInManager<PortalUser> signIn, UserManager<PortalUser> users)
    {
        var user = await users.GetUserAsync(http.User);
        if (user is null) return Results.LocalRedirect("/login");
        if (next != confirm) return Results.LocalRedirect("/account?error=mismatch");
        var result = await users.ChangePasswordAsync(user, current ?? "", next ?? "");
        if (result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.PasswordMismatch)))
        {
            // A wrong current password counts towards the lockout, as a wrong sign-in does.
            await users.AccessFailedAsync(user);
            return Results.LocalRedirect("/account?error=current");
        }
        if (!result.Succeeded) return Results.LocalRedirect("/account?error=weak");
        // A new security stamp signs out every other session of this user; this one is renewed.
        await signIn.RefreshSignInAsync(user);
        return Results.LocalRedirect("/account?changed=1");
    }
}
