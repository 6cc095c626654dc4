using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Identity;

/// <summary>
/// Sign-in for people (Identity's cookie), tokens for scripts, one authorization rule for every
/// endpoint (an identity is required; only sign-in, static assets and the health check are open),
/// Data Protection keys in the data folder, and rate limits on sign-in and token creation.
/// </summary>
public static class IdentitySetup
{
    /// <summary>Picks the token handler when a request carries "Authorization", else the sign-in cookie.</summary>
    public const string Scheme = "ModelOps";
    public const string SignInLimit = "sign-in";
    public const string TokenLimit = "token-create";

    public static IServiceCollection AddPortalIdentity(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<AuthOptions>(configuration.GetSection(AuthOptions.Section));
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();

        services.AddIdentityCore<PortalUser>(o =>
            {
                o.User.RequireUniqueEmail = false;
                o.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._@";
                o.Password.RequiredLength = auth.PasswordLength;
                o.Password.RequireDigit = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequiredUniqueChars = 4;
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = auth.MaxFailedSignIns;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(auth.LockoutMinutes);
            })
            .AddEntityFrameworkStores<PortalDb>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, Scheme, o => o.ForwardDefaultSelector = http =>
                http.Request.Headers.Authorization.Count > 0 ? TokenAuthentication.Name : IdentityConstants.ApplicationScheme)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, TokenAuthentication>(TokenAuthentication.Name, null)
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/login";
            o.LogoutPath = "/account/logout";
            o.AccessDeniedPath = "/login";
            o.Cookie.Name = "mop.auth";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            // Secure whenever the request is HTTPS, as any deployment beyond loopback must be.
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.SlidingExpiration = true;
            o.ExpireTimeSpan = TimeSpan.FromHours(auth.SessionHours);
            o.Events.OnRedirectToLogin = context => IsApi(context.Request)
                ? throw new PortalException(PortalError.Unauthorized, $"Sign in, or send 'Authorization: Bearer mop_...' (create a token on the Tokens page).")
                : Redirect(context);
            o.Events.OnRedirectToAccessDenied = context => IsApi(context.Request)
                ? throw new PortalException(PortalError.Forbidden, $"Your identity may not do this.")
                : Redirect(context);
        });
        // A password change or reset (a new security stamp) ends other cookie sessions on the API as soon as open pages notice it.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromSeconds(Math.Clamp(auth.RevalidateSeconds, 1, 3600)));
        // Behind a reverse proxy on this machine: the client's address (rate limits) and HTTPS (Secure cookies) come from its headers;
        // only loopback proxies are believed (the default KnownProxies).
        services.Configure<Microsoft.AspNetCore.Builder.ForwardedHeadersOptions>(o =>
            o.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto);
        // Every endpoint needs an identity unless it says otherwise (AllowAnonymous).
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(Scheme).RequireAuthenticatedUser().Build());
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingUserState>();
        services.AddScoped<CircuitPrincipal>();
        services.AddScoped<CircuitHandler, PrincipalCircuitHandler>();
        services.AddScoped<Access>();
        services.AddScoped<People>();
        services.AddScoped<FirstAdmin>();

        // Keys in the data folder: a restart keeps everyone signed in and every antiforgery token valid.
        services.AddDataProtection().SetApplicationName("ModelOps.Portal");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(o =>
            o.XmlRepository = new FileSystemXmlRepository(
                new DirectoryInfo(Path.Combine(sp.GetRequiredService<IOptions<PortalOptions>>().Value.DataRoot, "keys")),
                sp.GetRequiredService<ILoggerFactory>())));

        services.AddRateLimiter(o =>
        {
            o.AddPolicy(SignInLimit, http => RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "local",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = Math.Max(1, auth.SignInsPerMinute), Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            o.AddPolicy(TokenLimit, http => RateLimitPartition.GetFixedWindowLimiter(
                http.User.Identity?.Name ?? http.Connection.RemoteIpAddress?.ToString() ?? "local",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = Math.Max(1, auth.TokensPerMinute), Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            o.OnRejected = async (context, ct) =>
            {
                // Written here rather than thrown: the exception handler would clear the Retry-After header.
                var http = context.HttpContext;
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
                var seconds = (int)Math.Ceiling(Math.Max(1, retry.TotalSeconds));
                var error = new PortalException(PortalError.TooManyRequests, $"Too many attempts; try again in {seconds} seconds.");
                var culture = PortalCultures.Of(http);
                http.Response.StatusCode = error.StatusCode;
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
                    {
                        Status = error.StatusCode, Title = error.LocalizedTitle(culture), Detail = error.Localized(culture), Instance = http.Request.Path,
                    },
                });
            };
        });
        return services;
    }

    private static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api");

    private static Task Redirect(Microsoft.AspNetCore.Authentication.RedirectContext<CookieAuthenticationOptions> context)
    {
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
