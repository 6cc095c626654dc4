using Microsoft.EntityFrameworkCore;

namespace ModelOps.Portal.Infrastructure;

/// <summary>Marks an entity whose changes decide which model version answers a prediction (stages, canaries, shadows).</summary>
public interface IServingState;

/// <summary>Marks an entity whose changes decide who may do what (users, memberships, tokens).</summary>
public interface IAccessState;

/// <summary>
/// Counters that <see cref="PortalDb"/> bumps after a SaveChanges that changed serving or access state.
/// A cache on a hot path (the predict endpoint's deployment table, a token's principal) keeps the
/// generation it was filled at and refills when the counter moved, so it never serves a stale answer
/// after a committed change in this process, without reading the store on every request. Process-wide
/// on purpose: several portals in one test process only refill more often. Raw SQL writes do not bump
/// them; whoever writes serving or access state with raw SQL calls <see cref="BumpServing"/> or
/// <see cref="BumpAccess"/>.
/// </summary>
public static class StoreGenerations
{
    private static long _serving;
    private static long _access;

    public static long Serving => Interlocked.Read(ref _serving);
    public static long Access => Interlocked.Read(ref _access);

    public static void BumpServing() => Interlocked.Increment(ref _serving);
    public static void BumpAccess() => Interlocked.Increment(ref _access);

    /// <summary>What the pending changes of <paramref name="db"/> touch, read before SaveChanges clears them.</summary>
    internal static (bool Serving, bool Access) Pending(DbContext db)
    {
        bool serving = false, access = false;
        foreach (var entry in db.ChangeTracker.Entries())
        {
            if (entry.State is EntityState.Unchanged or EntityState.Detached) continue;
            switch (entry.Entity)
            {
                case IServingState or Registry.ModelVersion or Registry.RegisteredModel: serving = true; break;
                case IAccessState or Identity.PortalUser or Identity.TeamMember or Identity.Team or Tracking.ApiToken: access = true; break;
            }
        }
        return (serving, access);
    }

    internal static void After((bool Serving, bool Access) changed)
    {
        if (changed.Serving) BumpServing();
        if (changed.Access) BumpAccess();
    }
}

/// <summary>
/// Inside an explicit transaction a SaveChanges is not yet visible to other connections, so a cache
/// refilled between it and the commit would keep the old state at the new generation: the context
/// remembers what it changed and this bumps the counters again once the transaction commits.
/// </summary>
internal sealed class GenerationCommitInterceptor : Microsoft.EntityFrameworkCore.Diagnostics.DbTransactionInterceptor
{
    public static readonly GenerationCommitInterceptor Instance = new();

    public override void TransactionCommitted(System.Data.Common.DbTransaction transaction, Microsoft.EntityFrameworkCore.Diagnostics.TransactionEndEventData eventData) =>
        Flush(eventData.Context);

    public override Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction, Microsoft.EntityFrameworkCore.Diagnostics.TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Flush(eventData.Context);
        return Task.CompletedTask;
    }

    private static void Flush(DbContext? context)
    {
        if (context is PortalDb db) db.FlushGenerations();
    }
}
