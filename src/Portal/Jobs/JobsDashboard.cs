using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ModelOps.Jobs.Scheduling;

namespace ModelOps.Portal.Jobs;

/// <summary>
/// Hangfire's own dashboard at <see cref="Path"/> for engineers (queues, servers, retries, a job's
/// history), over this portal's job store. The Jobs page stays the product's view. It answers site Admins
/// only: it can trigger, delete and requeue every team's jobs.
/// </summary>
public static class JobsDashboard
{
    public const string Path = "/hangfire";

    public static IServiceCollection AddJobsDashboard(this IServiceCollection services)
    {
        // UseHangfireDashboard checks for this marker; the portal never configures Hangfire globally
        // (JobsHost holds its own storage), so the marker is registered as it is.
        services.TryAddSingleton<IGlobalConfiguration>(GlobalConfiguration.Configuration);
        services.TryAddSingleton(DashboardRoutes.Routes);
        return services;
    }

    public static WebApplication MapJobsDashboard(this WebApplication app)
    {
        // The dashboard triggers, deletes and requeues any team's jobs and shows their arguments: site Admins only,
        // checked against the store before Hangfire sees the request (its own filter below is a second line).
        app.UseWhen(http => http.Request.Path.StartsWithSegments(Path), branch => branch.Use(async (http, next) =>
        {
            if (http.User is not { Identity.IsAuthenticated: true } user || user.HasClaim(c => c.Type == Identity.PortalClaims.WorkerRun))
            {
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            if (!await http.RequestServices.GetRequiredService<Identity.Access>().IsSiteAdminAsync(http.RequestAborted))
            {
                http.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }
            await next(http);
        }));
        app.UseHangfireDashboard(Path, new DashboardOptions
        {
            Authorization = [new SignedInOnly()],
            DashboardTitle = "ModelOps · Hangfire",
            AppPath = "/jobs",
            DisplayStorageConnectionString = false,
        }, app.Services.GetRequiredService<JobsHost>().Storage);
        return app;
    }

    /// <summary>A signed-in person (authentication runs before the dashboard's middleware); anyone else gets a 401.</summary>
    public sealed class SignedInOnly : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) =>
            context.GetHttpContext().User is { Identity.IsAuthenticated: true } user && !user.HasClaim(c => c.Type == Identity.PortalClaims.WorkerRun);
    }
}
