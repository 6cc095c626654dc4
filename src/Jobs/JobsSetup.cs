using Microsoft.Extensions.DependencyInjection;
using ModelOps.Jobs.Scheduling;

namespace ModelOps.Jobs;

public static class JobsSetup
{
    /// <summary>Hangfire (store, client, slot servers), the queue and the worker launcher. The caller provides <see cref="IRunLifecycle"/>.</summary>
    public static IServiceCollection AddModelOpsJobs(this IServiceCollection services, Func<IServiceProvider, JobsOptions> options)
    {
        services.AddSingleton(options);
        services.AddSingleton<WorkerProcesses>();
        services.AddSingleton<JobsHost>();
        services.AddHostedService(sp => sp.GetRequiredService<JobsHost>());
        services.AddSingleton<RunQueue>();
        services.AddTransient<TrainingJob>();
        return services;
    }
}
