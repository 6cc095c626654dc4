using System.Collections.Concurrent;

namespace ModelOps.Portal.Runs;

public sealed record MetricPointView(string Key, long Step, double Value);

public sealed record RunUpdate(
    int RunId, RunStatus Status, double Progress, int CurrentEpoch, int Epochs, string? Message,
    IReadOnlyList<MetricPointView> NewMetrics);

/// <summary>
/// In-process fan-out of run changes to the open run pages (Blazor circuits), so curves and
/// progress move without polling the database. Lossy by design for slow subscribers: a page that
/// misses an update still has the store to reload from.
/// </summary>
public sealed class RunEvents(ILogger<RunEvents> log)
{
    private readonly ConcurrentDictionary<int, ConcurrentDictionary<Guid, Func<RunUpdate, Task>>> _subscribers = new();

    public IDisposable Subscribe(int runId, Func<RunUpdate, Task> handler)
    {
        var id = Guid.NewGuid();
        _subscribers.GetOrAdd(runId, _ => new())[id] = handler;
        return new Subscription(() =>
        {
            if (_subscribers.TryGetValue(runId, out var handlers))
                handlers.TryRemove(id, out _);
        });
    }

    public void Publish(RunUpdate update)
    {
        if (!_subscribers.TryGetValue(update.RunId, out var forRun))
            return;
        var handlers = forRun.Values.ToList();
        foreach (var handler in handlers)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await handler(update);
                }
                catch (Exception ex)
                {
                    log.LogDebug(ex, "A run-update subscriber failed");
                }
            });
        }
    }

    /// <summary>Whether any page watches the run: callers skip building updates nobody reads.</summary>
    public bool IsWatched(int runId) => _subscribers.TryGetValue(runId, out var forRun) && !forRun.IsEmpty;

    public void Publish(Run run, IReadOnlyList<MetricPointView>? metrics = null)
    {
        Publish(new RunUpdate(run.Id, run.Status, run.Progress, run.CurrentEpoch, run.Epochs, run.Error ?? run.StatusMessage, metrics ?? []));
        if (run.Status.IsTerminal() && Ended is { } ended)
        {
            try
            {
                ended(run);
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "A run-ended listener failed for run {RunId}", run.Id);
            }
        }
    }

    /// <summary>Raised (on the publisher's thread, so keep it short) whenever an ended run is published: a schedule's gate listens.</summary>
    public event Action<Run>? Ended;

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;
        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
