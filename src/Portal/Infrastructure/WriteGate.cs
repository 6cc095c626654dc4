using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// SQLite allows one writer at a time. Rather than let concurrent writers race for the file lock
/// (and surface "database is locked" after the busy timeout), every SaveChanges in this process
/// queues on one gate, owned per DbContext and re-entrant. A multi-step write inside an explicit
/// transaction takes the gate for its whole length with <see cref="EnterAsync"/>, so no other
/// writer can sit on the gate while waiting for the transaction's file lock.
/// Reads are never gated; WAL keeps them concurrent with the writer.
/// </summary>
public sealed class WriteGate
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConditionalWeakTable<DbContext, Holder> _owners = new();

    public async Task<IAsyncDisposable> EnterAsync(DbContext context, CancellationToken ct = default)
    {
        await AcquireAsync(context, ct);
        return new Lease(this, context);
    }

    internal async Task AcquireAsync(DbContext context, CancellationToken ct)
    {
        if (TryReenter(context)) return;
        await _gate.WaitAsync(ct);
        _owners.AddOrUpdate(context, new Holder { Count = 1 });
    }

    internal void Acquire(DbContext context)
    {
        if (TryReenter(context)) return;
        _gate.Wait();
        _owners.AddOrUpdate(context, new Holder { Count = 1 });
    }

    internal void Release(DbContext? context)
    {
        if (context is null || !_owners.TryGetValue(context, out var holder)) return;
        lock (holder)
        {
            if (--holder.Count > 0) return;
        }
        _owners.Remove(context);
        _gate.Release();
    }

    private bool TryReenter(DbContext context)
    {
        if (!_owners.TryGetValue(context, out var holder)) return false;
        lock (holder) holder.Count++;
        return true;
    }

    private sealed class Holder
    {
        public int Count;
    }

    private sealed class Lease(WriteGate gate, DbContext context) : IAsyncDisposable
    {
        private int _disposed;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) gate.Release(context);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Puts every SaveChanges through the <see cref="WriteGate"/>.</summary>
public sealed class WriteGateInterceptor(WriteGate gate) : SaveChangesInterceptor
{
    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context) await gate.AcquireAsync(context, cancellationToken);
        return result;
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is { } context) gate.Acquire(context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        gate.Release(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        gate.Release(eventData.Context);
        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => gate.Release(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        gate.Release(eventData.Context);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => gate.Release(eventData.Context);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        gate.Release(eventData.Context);
        return Task.CompletedTask;
    }
}
