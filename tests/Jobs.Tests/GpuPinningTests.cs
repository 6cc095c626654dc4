using Microsoft.Extensions.Logging.Abstractions;
using ModelOps.Jobs.Scheduling;
using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

/// <summary>
/// One GPU per gpu-queue worker: the pool hands each running job a GPU no other holds, and the worker
/// process sees only that one (CUDA_VISIBLE_DEVICES). No GPU is needed to check either.
/// </summary>
public sealed class GpuPinningTests
{
    [Fact]
    public void Each_rent_gets_a_free_gpu_the_lowest_first_and_a_returned_one_is_reused()
    {
        var pool = new GpuPool(3);
        using var a = pool.Rent()!;
        var b = pool.Rent()!;
        using var c = pool.Rent()!;
        Assert.Equal(["0", "1", "2"], new[] { a.Device, b.Device, c.Device });
        Assert.Null(pool.Rent());
        b.Dispose();
        b.Dispose(); // twice returns it once
        using var again = pool.Rent()!;
        Assert.Equal("1", again.Device);
        Assert.Null(pool.Rent());
    }

    [Fact]
    public void The_portals_own_visible_devices_are_the_ones_handed_out()
    {
        var pool = new GpuPool(2, "2, 3");
        using var first = pool.Rent()!;
        using var second = pool.Rent()!;
        Assert.Equal(("2", "3"), (first.Device, second.Device));
        Assert.Equal(0, new GpuPool(0).Count);
        Assert.Null(new GpuPool(0).Rent());
    }

    [Theory]
    [InlineData("cuda:1", true)]
    [InlineData("CUDA:0", true)]
    [InlineData("cuda", false)]
    [InlineData("auto", false)]
    [InlineData(null, false)]
    public void A_run_that_names_its_gpu_is_not_pinned_to_another(string? device, bool namesGpu) =>
        Assert.Equal(namesGpu, new WorkerLaunch(1, 1, "token", SlotQueues.Gpu, device).NamesGpu);

    [Fact]
    public async Task The_worker_process_sees_only_its_gpu()
    {
        if (!OperatingSystem.IsLinux()) return; // the worker is a Linux process
        using var folder = new TempFolder();
        var seen = Path.Combine(folder.Path, "seen.txt");
        var fake = Path.Combine(folder.Path, "fake-worker.sh");
        await File.WriteAllTextAsync(fake, $"#!/bin/sh\nprintf '%s' \"${{{GpuPool.VisibleDevicesVariable}-unset}}\" > '{seen}'\n");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var workers = new WorkerProcesses(new JobsOptions
        {
            JobStorePath = Path.Combine(folder.Path, "jobs.db"),
            WorkerExecutable = fake,
            PortalUrl = () => "http://127.0.0.1:9",
            WorkRoot = Path.Combine(folder.Path, "work"),
        }, NullLogger<WorkerProcesses>.Instance);

        Assert.Equal(0, (await workers.RunAsync(new WorkerLaunch(1, 1, "token", SlotQueues.Gpu), CancellationToken.None, "1")).ExitCode);
        Assert.Equal("1", await File.ReadAllTextAsync(seen));
        // A cpu-queue run's environment is left as it is.
        Assert.Equal(0, (await workers.RunAsync(new WorkerLaunch(2, 1, "token", SlotQueues.Cpu), CancellationToken.None)).ExitCode);
        Assert.Equal(Environment.GetEnvironmentVariable(GpuPool.VisibleDevicesVariable) ?? "unset", await File.ReadAllTextAsync(seen));
    }
}
