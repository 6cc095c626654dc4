using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelOps.Jobs.Scheduling;
using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

/// <summary>Quartz with its ADO store on a real SQLite file, hosted the way the portal hosts it.</summary>
public sealed class SchedulerRestartTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    /// <summary>The portal's side of the lifecycle, recorded: which runs the scheduler tried to start.</summary>
    private sealed class RecordingLifecycle : IRunLifecycle
    {
        public ConcurrentQueue<int> Begun { get; } = new();

        public Task<WorkerLaunch?> BeginAttemptAsync(int runId, CancellationToken ct)
        {
            Begun.Enqueue(runId);
            return Task.FromResult<WorkerLaunch?>(null); // "no longer runnable": no worker process is needed here
        }

        public Task WorkerExitedAsync(int runId, int attempt, int exitCode, string? errorTail, string? reason, CancellationToken ct) => Task.CompletedTask;
    }

    private ServiceProvider Scheduler(RecordingLifecycle lifecycle, bool paused)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<IRunLifecycle>(lifecycle);
        services.AddModelOpsJobs(_ => new JobsOptions
        {
            SchedulerDatabasePath = Path.Combine(_folder.Path, "scheduler.db"),
            WorkerExecutable = "/nonexistent/worker",
            PortalUrl = () => "http://127.0.0.1:1",
            WorkRoot = Path.Combine(_folder.Path, "work"),
            PauseDispatch = paused,
        });
        return services.BuildServiceProvider();
    }

    private static async Task StartAsync(ServiceProvider provider)
    {
        foreach (var hosted in provider.GetServices<IHostedService>()) await hosted.StartAsync(CancellationToken.None);
    }

    private static async Task StopAsync(ServiceProvider provider)
    {
        foreach (var hosted in provider.GetServices<IHostedService>()) await hosted.StopAsync(CancellationToken.None);
        await provider.DisposeAsync();
    }

    [Fact]
    public async Task QueuedJob_SurvivesASchedulerRestart_AndRunsAfterIt()
    {
        var before = new RecordingLifecycle();
        var first = Scheduler(before, paused: true);
        await StartAsync(first);
        await first.GetRequiredService<RunQueue>().EnqueueAsync(42);
        await first.GetRequiredService<RunQueue>().EnqueueAsync(42); // a second enqueue of one run adds nothing
        await StopAsync(first);
        Assert.Empty(before.Begun);

        var after = new RecordingLifecycle();
        var second = Scheduler(after, paused: false);
        await StartAsync(second);
        try
        {
            var until = DateTime.UtcNow.AddSeconds(20);
            while (after.Begun.IsEmpty && DateTime.UtcNow < until) await Task.Delay(100);
            Assert.Equal([42], after.Begun.ToArray());
            // Done jobs leave the store.
            until = DateTime.UtcNow.AddSeconds(10);
            while (await second.GetRequiredService<RunQueue>().ContainsAsync(42) && DateTime.UtcNow < until) await Task.Delay(100);
            Assert.False(await second.GetRequiredService<RunQueue>().ContainsAsync(42));
        }
        finally
        {
            await StopAsync(second);
        }
    }

    [Fact]
    public async Task RemovedJob_NeverFires()
    {
        var lifecycle = new RecordingLifecycle();
        var paused = Scheduler(lifecycle, paused: true);
        await StartAsync(paused);
        var queue = paused.GetRequiredService<RunQueue>();
        await queue.EnqueueAsync(7);
        Assert.True(await queue.RemoveAsync(7));
        await StopAsync(paused);

        var running = Scheduler(lifecycle, paused: false);
        await StartAsync(running);
        await Task.Delay(2000);
        await StopAsync(running);
        Assert.Empty(lifecycle.Begun);
    }
}
