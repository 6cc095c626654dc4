using Microsoft.Extensions.DependencyInjection;
using ModelOps.Jobs.Scheduling;

namespace ModelOps.Jobs;

public static class JobsSetup
{
    /// <summary>The scheduler, the queue and the worker launcher. The caller provides <see cref="IRunLifecycle"/>.</summary>
    public static IServiceCollection AddModelOpsJobs(this IServiceCollection services, Func<IServiceProvider, JobsOptions> options)
    {
        services.AddSingleton(options);
        services.AddSingleton<WorkerProcesses>();
        services.AddSingleton<ServiceJobFactory>();
        services.AddSingleton<SchedulerHost>();
        services.AddHostedService(sp => sp.GetRequiredService<SchedulerHost>());
        services.AddSingleton<RunQueue>();
        return services;
    }
}
