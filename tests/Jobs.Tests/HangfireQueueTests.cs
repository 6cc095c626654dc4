using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelOps.Jobs.Scheduling;
using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

/// <summary>Hangfire with its store on a real SQLite file, hosted the way the portal hosts it (JobsHost, slot queues).</summary>
public sealed class HangfireQueueTests : IDisposable
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

        public Task JobCancelledAsync(int runId, CancellationToken ct) => Task.CompletedTask;

        public Task WorkerExitedAsync(int runId, int attempt, int exitCode, string? errorTail, string? reason, CancellationToken ct) => Task.CompletedTask;
    }

    private ServiceProvider Scheduler(RecordingLifecycle lifecycle, bool paused)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<IRunLifecycle>(lifecycle);
        services.AddModelOpsJobs(_ => new JobsOptions
        {
            JobStorePath = Path.Combine(_folder.Path, "jobs.db"),
            GpuSlots = 0,
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

    private static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (!condition() && DateTime.UtcNow < until) await Task.Delay(50);
        return condition();
    }

    [Fact]
    public async Task QueuedJob_SurvivesARestart_AndRunsAfterIt()
    {
        var before = new RecordingLifecycle();
        var first = Scheduler(before, paused: true);
        await StartAsync(first);
        var job = first.GetRequiredService<RunQueue>().Enqueue(42, SlotQueues.Cpu);
        Assert.True(first.GetRequiredService<RunQueue>().IsPending(job));
        await StopAsync(first);
        Assert.Empty(before.Begun);

        var after = new RecordingLifecycle();
        var second = Scheduler(after, paused: false);
        await StartAsync(second);
        try
        {
            Assert.True(await EventuallyAsync(() => !after.Begun.IsEmpty, TimeSpan.FromSeconds(20)), "The job queued before the restart never ran.");
            Assert.Equal([42], after.Begun.ToArray());
            // A delivered job is no longer pending: a restart does not deliver it again.
            Assert.True(await EventuallyAsync(() => !second.GetRequiredService<RunQueue>().IsPending(job), TimeSpan.FromSeconds(10)));
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
        var job = queue.Enqueue(7, SlotQueues.Cpu);
        Assert.True(queue.Remove(job));
        Assert.False(queue.IsPending(job));
        await StopAsync(paused);

        var running = Scheduler(lifecycle, paused: false);
        await StartAsync(running);
        await Task.Delay(2000);
        await StopAsync(running);
        Assert.Empty(lifecycle.Begun);
    }

    [Fact]
    public async Task A_job_waits_in_its_slot_queue_and_only_a_server_of_that_queue_takes_it()
    {
        var lifecycle = new RecordingLifecycle();
        var provider = Scheduler(lifecycle, paused: false);
        await StartAsync(provider);
        try
        {
            var queue = provider.GetRequiredService<RunQueue>();
            // This host has no GPU slots (GpuSlots = 0), so nothing serves the gpu queue.
            Assert.Equal(0, provider.GetRequiredService<JobsHost>().GpuSlots);
            var gpuJob = queue.Enqueue(1, SlotQueues.Gpu);
            queue.Enqueue(2, SlotQueues.Cpu);
            Assert.True(await EventuallyAsync(() => lifecycle.Begun.Contains(2), TimeSpan.FromSeconds(10)), "The cpu job was not taken.");
            await Task.Delay(1500);
            Assert.DoesNotContain(1, lifecycle.Begun);
            Assert.True(queue.IsPending(gpuJob));
        }
        finally
        {
            await StopAsync(provider);
        }
    }

    [Theory]
    [InlineData("auto", 0, SlotQueues.Cpu)]
    [InlineData("cuda", 0, SlotQueues.Cpu)]
    [InlineData("auto", 2, SlotQueues.Gpu)]
    [InlineData("cuda:1", 2, SlotQueues.Gpu)]
    [InlineData(" CPU ", 2, SlotQueues.Cpu)]
    public void A_run_goes_to_the_queue_of_its_device(string device, int gpus, string expected) =>
        Assert.Equal(expected, SlotQueues.For(device, gpus));

    [Fact]
    public void Without_a_CUDA_LibTorch_there_are_no_GPUs_to_count() =>
        Assert.Equal(0, SlotQueues.CountGpus(new JobsOptions
        {
            JobStorePath = Path.Combine(_folder.Path, "jobs.db"),
            WorkerExecutable = "/nonexistent/worker",
            PortalUrl = () => "http://127.0.0.1:1",
            WorkRoot = _folder.Path,
        }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
}
