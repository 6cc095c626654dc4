using System.Net;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ModelOps.Jobs.Scheduling;

namespace ModelOps.Portal.Jobs;

/// <summary>
/// Hangfire's own dashboard at <see cref="Path"/> for engineers (queues, servers, retries, a job's
/// history), over this portal's job store. The Jobs page stays the product's view. Until the portal has
/// sign-in, the dashboard answers local requests only, like the rest of the portal's write surface.
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
        app.UseHangfireDashboard(Path, new DashboardOptions
        {
            Authorization = [new LocalRequestsOnly()],
            DashboardTitle = "ModelOps · Hangfire",
            AppPath = "/jobs",
            DisplayStorageConnectionString = false,
        }, app.Services.GetRequiredService<JobsHost>().Storage);
        return app;
    }

    /// <summary>Loopback callers only (the portal listens on 127.0.0.1 by default).</summary>
    public sealed class LocalRequestsOnly : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context)
        {
            var remote = context.GetHttpContext().Connection.RemoteIpAddress;
            // The in-process test server has no remote address: it is local by construction.
            return remote is null || IPAddress.IsLoopback(remote);
        }
    }
}
