namespace ModelOps.Portal.Components.Shared;

/// <summary>
/// A Blazor circuit lives for as long as the tab is open, so its scope would keep one DbContext (and
/// whatever a failed save left tracked in it) for hours. Pages run each write in a scope of its own.
/// </summary>
public static class ScopedServices
{
    public static async Task<TResult> InScopeAsync<TService, TResult>(this IServiceScopeFactory scopes, Func<TService, Task<TResult>> action)
        where TService : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    public static async Task InScopeAsync<TService>(this IServiceScopeFactory scopes, Func<TService, Task> action)
        where TService : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<TService>());
    }
}
