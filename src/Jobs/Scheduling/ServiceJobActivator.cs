using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace ModelOps.Jobs.Scheduling;

/// <summary>Creates Hangfire's job objects from this portal's container, one DI scope per job.</summary>
internal sealed class ServiceJobActivator(IServiceScopeFactory scopes) : JobActivator
{
    public override object ActivateJob(Type jobType) => throw new InvalidOperationException("Jobs are activated in a scope.");

    public override JobActivatorScope BeginScope(JobActivatorContext context) => new Scope(scopes.CreateScope());

    private sealed class Scope(IServiceScope scope) : JobActivatorScope
    {
        public override object Resolve(Type type) => ActivatorUtilities.GetServiceOrCreateInstance(scope.ServiceProvider, type);

        public override void DisposeScope() => scope.Dispose();
    }
}
