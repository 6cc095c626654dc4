using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace ModelOps.Jobs.Scheduling;

/// <summary>
/// One Hangfire queue per kind of slot: a job is fetched only by a server whose slot is free. A run asks
/// for <c>auto</c>, <c>cpu</c> or <c>cuda[:n]</c>; cpu goes to the cpu queue, cuda and auto to the gpu
/// queue when this portal has GPU slots. Without GPU slots everything waits for a cpu slot (a cuda run
/// then fails in its worker with the reason, as it always did on a machine without CUDA).
/// </summary>
public static class SlotQueues
{
    public const string Gpu = "gpu";
    public const string Cpu = "cpu";
    /// <summary>Not a slot: schedule fires and gate decisions (short jobs of the portal itself) wait here, never behind training.</summary>
    public const string Schedules = "schedules";
    public const string CountGpusArgument = "--count-gpus";

    public static string For(string? device, int gpuSlots)
    {
        var d = (device ?? "auto").Trim().ToLowerInvariant();
        if (gpuSlots <= 0 || d == "cpu") return Cpu;
        return Gpu;
    }

    /// <summary>The worker's side of <see cref="CountGpus"/>: the engine's CUDA query, printed.</summary>
    public static int PrintGpuCount()
    {
        try
        {
            Console.WriteLine(ModelOps.Engine.Devices.CudaCount().ToString(CultureInfo.InvariantCulture));
            return 0;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }
    }

    /// <summary>
    /// GPUs the workers will see: 0 without a CUDA LibTorch configured (the package's LibTorch is CPU-only),
    /// else what the worker executable's engine counts with that LibTorch, asked in a child process so the
    /// portal never loads CUDA itself. A probe that fails counts 0 and says why in the log.
    /// </summary>
    public static int CountGpus(JobsOptions options, ILogger log)
    {
        if (string.IsNullOrWhiteSpace(options.LibTorchDirectory)) return 0;
        try
        {
            var start = new ProcessStartInfo(options.WorkerExecutable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(CountGpusArgument);
            start.Environment[ModelOps.Engine.NativeBackend.DirectoryVariable] = Path.GetFullPath(options.LibTorchDirectory);
            using var process = Process.Start(start) ?? throw new InvalidOperationException("the worker did not start");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("the device probe took longer than 60 s");
            }
            if (process.ExitCode == 0 && int.TryParse(output.Result.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                return count;
            throw new InvalidOperationException($"exit code {process.ExitCode}: {error.Result.Trim()}");
        }
        catch (Exception ex)
        {
            log.LogWarning("Counting GPUs with the LibTorch in {Directory} failed ({Reason}); no gpu queue", options.LibTorchDirectory, ex.Message);
            return 0;
        }
    }
}
