using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using Quartz.Spi;

namespace ModelOps.Jobs.Scheduling;

/// <summary>Creates each job in its own DI scope (Quartz.Extensions.DependencyInjection is not obtainable here).</summary>
public sealed class ServiceJobFactory(IServiceScopeFactory scopes) : IJobFactory
{
    private readonly ConditionalWeakTable<IJob, IServiceScope> _scopes = new();

    public IJob NewJob(TriggerFiredBundle bundle, IScheduler scheduler)
    {
        var scope = scopes.CreateScope();
        var job = (IJob)ActivatorUtilities.CreateInstance(scope.ServiceProvider, bundle.JobDetail.JobType);
        _scopes.Add(job, scope);
        return job;
    }

    public void ReturnJob(IJob job)
    {
        if (_scopes.TryGetValue(job, out var scope))
        {
            _scopes.Remove(job);
            scope.Dispose();
        }
    }
}
