using System.Diagnostics;
using ModelOps.Jobs.Protocol;
using ModelOps.Jobs.Worker;
using ModelOps.TestSupport;
using Xunit.Abstractions;

namespace ModelOps.Jobs.Tests;

/// <summary>The worker's system sampler over this test process's real /proc figures, and a stand-in nvidia-smi.</summary>
/// <summary>
/// The sampler reads this test process's CPU time, so nothing else may run in the process meanwhile:
/// the class runs alone, after the parallel ones (an "idle" reading of 72 % came from a neighbour).
/// </summary>
[CollectionDefinition(nameof(SystemSamplerTests), DisableParallelization = true)]
public sealed class SystemSamplerCollection;

[Collection(nameof(SystemSamplerTests))]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SystemSamplerTests(ITestOutputHelper output)
{
    private static void Burn(TimeSpan span)
    {
        var watch = Stopwatch.StartNew();
        var x = 1.0;
        while (watch.Elapsed < span) x = Math.Sqrt(x + 1.000001);
        GC.KeepAlive(x);
    }

    [Fact]
    public void Cpu_percent_rises_when_the_process_burns_cpu_and_core_seconds_grow_with_it()
    {
        using var sampler = new SystemSampler("cpu", 0, null);
        Thread.Sleep(400);
        var idle = sampler.Sample();
        var before = sampler.Usage().CpuCoreSeconds;

        var burning = new Thread(() => Burn(TimeSpan.FromSeconds(1))) { IsBackground = true };
        burning.Start();
        burning.Join();
        var busy = sampler.Sample();
        var after = sampler.Usage().CpuCoreSeconds;

        output.WriteLine($"idle {idle.CpuPercent} %, one burning thread {busy.CpuPercent} %, core-seconds {before} -> {after}");
        // One thread busy for the whole interval reads about 100 (percent of one core); two shared cores leave some slack.
        Assert.True(busy.CpuPercent > 40, $"busy read {busy.CpuPercent} %");
        Assert.True(busy.CpuPercent > idle.CpuPercent + 25, $"idle {idle.CpuPercent} %, busy {busy.CpuPercent} %");
        Assert.True(after - before > 0.5, $"core-seconds grew by {after - before}");
        // No GPU figures on the CPU, and no GPU-seconds even while "training".
        Assert.Null(busy.GpuPercent);
        Assert.Null(busy.GpuMemoryMiB);
        sampler.TrainingStarted();
        Thread.Sleep(50);
        sampler.TrainingEnded();
        Assert.Equal(0, sampler.Usage().GpuSeconds);
    }

    [Fact]
    public void Resident_memory_follows_what_the_process_touches()
    {
        var before = SystemSampler.ResidentMiB();
        var block = new byte[256 * 1024 * 1024];
        for (var i = 0; i < block.Length; i += 4096) block[i] = 1;
        var after = SystemSampler.ResidentMiB();
        GC.KeepAlive(block);
        output.WriteLine($"resident {before:0} MiB -> {after:0} MiB");
        Assert.True(before > 10, $"{before} MiB");
        Assert.True(after - before > 150, $"{before} -> {after} MiB after touching 256 MiB");
    }

    [Fact]
    public void The_timer_hands_over_system_points_with_rising_steps_and_a_last_one_at_stop()
    {
        var points = new List<MetricPoint>();
        using var sampler = new SystemSampler("cpu", stepOffsetSeconds: 100, batch => { lock (points) points.AddRange(batch); });
        sampler.Start(TimeSpan.FromMilliseconds(100));
        // The test holds a thread-pool thread, as the training does: the sampler must not need one.
        Thread.Sleep(450);
        sampler.Stop();
        int count;
        lock (points) count = points.Count;
        Thread.Sleep(250);
        lock (points) Assert.Equal(count, points.Count); // stopped means stopped

        var cpu = points.Where(p => p.Key == SystemSampler.CpuPercentKey).ToList();
        var memory = points.Where(p => p.Key == SystemSampler.MemoryKey).ToList();
        Assert.True(cpu.Count >= 3, $"{cpu.Count} samples");
        Assert.Equal(cpu.Count, memory.Count);
        Assert.DoesNotContain(points, p => p.Key.StartsWith("system/gpu", StringComparison.Ordinal));
        // Steps are seconds since the run started (offset 100 here), one point per step.
        var steps = cpu.Select(p => p.Step!.Value).ToList();
        Assert.True(steps[0] >= 100, $"first step {steps[0]}");
        Assert.Equal(steps.Order(), steps);
        Assert.Equal(steps.Count, steps.Distinct().Count());
        Assert.All(memory, p => Assert.True(p.Value > 10));
    }

    [Fact]
    public void A_sample_costs_well_under_a_millisecond_of_cpu_on_the_cpu()
    {
        using var sampler = new SystemSampler("cpu", 0, null);
        const int samples = 200;
        var usage = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < samples; i++) sampler.Sample();
        var perSample = watch.Elapsed.TotalMilliseconds / samples;
        var cpuPerSample = (Process.GetCurrentProcess().TotalProcessorTime - usage).TotalMilliseconds / samples;
        output.WriteLine($"one sample: {perSample:0.000} ms wall, {cpuPerSample:0.000} ms CPU; every 2 s that is {cpuPerSample / 2000 * 100:0.0000} % of one core");
        Assert.True(perSample < 20, $"{perSample} ms per sample");
    }

    [Fact]
    public void On_cuda_the_gpu_figures_come_from_nvidia_smi_and_gpu_seconds_count_training_time()
    {
        using var folder = new TempFolder();
        var smi = Path.Combine(folder.Path, "nvidia-smi");
        var args = Path.Combine(folder.Path, "args");
        File.WriteAllText(smi, $"#!/bin/sh\necho \"$@\" > '{args}'\necho '37, 1234'\n");
        File.SetUnixFileMode(smi, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        using var sampler = new SystemSampler("cuda:0", 0, null, smi);
        var sample = sampler.Sample();
        Assert.Equal(37, sample.GpuPercent);
        Assert.Equal(1234, sample.GpuMemoryMiB);
        Assert.Contains("--query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -i", File.ReadAllText(args));

        Assert.Equal(0, sampler.Usage().GpuSeconds);
        sampler.TrainingStarted();
        Thread.Sleep(300);
        sampler.TrainingEnded();
        Thread.Sleep(200);
        var gpu = sampler.Usage().GpuSeconds;
        Assert.InRange(gpu, 0.25, 0.45);
    }

    [Fact]
    public void A_failing_nvidia_smi_leaves_the_gpu_figures_out_and_is_not_asked_forever()
    {
        using var folder = new TempFolder();
        var smi = Path.Combine(folder.Path, "nvidia-smi");
        File.WriteAllText(smi, "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n");
        File.SetUnixFileMode(smi, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        using var sampler = new SystemSampler("cuda", 0, null, smi);
        for (var i = 0; i < 3; i++)
        {
            var sample = sampler.Sample();
            Assert.Null(sample.GpuPercent);
            Assert.True(sample.MemoryMiB > 10); // the rest of the sample still comes
        }
        Assert.False(sampler.ReadsGpu);
        // Without any nvidia-smi there are no GPU figures either, and nothing throws.
        using var none = new SystemSampler("cuda", 0, null, Path.Combine(folder.Path, "missing"));
        Assert.Null(none.Sample().GpuPercent);
    }

    [Theory]
    [InlineData("cuda", null, "0")]
    [InlineData("cuda:1", null, "1")]
    [InlineData("cuda:1", "2,3", "3")]
    [InlineData("cuda:0", "GPU-1234abcd", "GPU-1234abcd")]
    public void Torch_devices_map_to_nvidia_smi_ids(string device, string? visible, string expected) =>
        Assert.Equal(expected, SystemSampler.GpuId(device, visible));

    [Theory]
    [InlineData("37, 1234\n", 37d, 1234d)]
    [InlineData(" 0, 5 ", 0d, 5d)]
    public void Nvidia_smi_answers_parse(string text, double percent, double memory) =>
        Assert.Equal((percent, memory), SystemSampler.ParseNvidiaSmi(text));

    [Theory]
    [InlineData("")]
    [InlineData("[N/A], 12")]
    [InlineData("No devices were found")]
    public void Odd_nvidia_smi_answers_give_no_figures(string text) => Assert.Null(SystemSampler.ParseNvidiaSmi(text));
}
