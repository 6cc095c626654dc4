using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace ModelOps.Jobs.Scheduling;

/// <param name="Reason">Why the portal ended the worker, when it did (e.g. heartbeats stopped).</param>
public sealed record WorkerExit(int ExitCode, string? ErrorTail, bool AbandonedForShutdown, string? Reason = null);

/// <summary>
/// Starts worker processes and keeps hold of them, so Cancel can stop one and a crash in native
/// code, an out-of-memory abort or a kill ends that process only, never the portal.
/// </summary>
public sealed class WorkerProcesses(JobsOptions options, ILogger<WorkerProcesses> log)
{
    public const string TokenVariable = "MODELOPS_WORKER_TOKEN";
    public const string ThreadsVariable = "MODELOPS_WORKER_THREADS";
    private const int ErrorTailLines = 12;
    private readonly ConcurrentDictionary<int, Process> _running = new();
    private readonly ConcurrentDictionary<int, string> _killReasons = new();

    public bool IsRunning(int runId) => _running.ContainsKey(runId);

    /// <param name="visibleDevices">The GPU the worker may use (CUDA_VISIBLE_DEVICES), for a gpu-queue run; null leaves the environment's.</param>
    public async Task<WorkerExit> RunAsync(WorkerLaunch launch, CancellationToken shutdown, string? visibleDevices = null)
    {
        var workDir = Path.Combine(options.WorkRoot, launch.RunId.ToString());
        Directory.CreateDirectory(workDir);
        var start = new ProcessStartInfo(options.WorkerExecutable)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = Directory.GetCurrentDirectory(),
        };
        foreach (var arg in new[] { "--portal", options.PortalUrl(), "--run", launch.RunId.ToString(), "--attempt", launch.Attempt.ToString(), "--work-dir", workDir })
            start.ArgumentList.Add(arg);
        // The token goes in the environment, not the command line, which any local user can read.
        start.Environment[TokenVariable] = launch.Token;
        start.Environment[ThreadsVariable] = Math.Max(1, options.ThreadsPerWorker).ToString();
        // The worker loads this LibTorch before its first torch call (NativeBackend); unset, it keeps whatever
        // the portal's own environment says, which is usually nothing: the package's CPU LibTorch.
        if (!string.IsNullOrWhiteSpace(options.LibTorchDirectory))
            start.Environment[ModelOps.Engine.NativeBackend.DirectoryVariable] = Path.GetFullPath(options.LibTorchDirectory);
        if (visibleDevices is not null)
            start.Environment[GpuPool.VisibleDevicesVariable] = visibleDevices;

        var tail = new Queue<string>();
        using var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (tail)
            {
                tail.Enqueue(e.Data);
                while (tail.Count > ErrorTailLines) tail.Dequeue();
            }
            log.LogWarning("worker {RunId}: {Line}", launch.RunId, e.Data);
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null) log.LogInformation("worker {RunId}: {Line}", launch.RunId, e.Data);
        };
        if (!process.Start())
            return new WorkerExit(-1, "The worker process could not be started.", false);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _running[launch.RunId] = process;
        log.LogInformation("Started worker {Pid} for run {RunId} attempt {Attempt}", process.Id, launch.RunId, launch.Attempt);
        try
        {
            await process.WaitForExitAsync(shutdown);
            process.WaitForExit(); // drains the redirected streams
        }
        catch (OperationCanceledException)
        {
            // The portal is stopping: the run stays Running and is requeued from its checkpoint at the next start.
            TryKill(process);
            return new WorkerExit(-1, null, AbandonedForShutdown: true);
        }
        finally
        {
            _running.TryRemove(launch.RunId, out _);
        }
        // The attempt is over (the portal holds its checkpoint and model): drop the dataset copy.
        // Kept above when the portal stops mid-run, so the resumed attempt need not download it again.
        TryDeleteFolder(workDir);
        string? errorTail;
        lock (tail) errorTail = tail.Count == 0 ? null : string.Join('\n', tail);
        log.LogInformation("Worker for run {RunId} exited with {Code}", launch.RunId, process.ExitCode);
        _killReasons.TryRemove(launch.RunId, out var reason);
        return new WorkerExit(process.ExitCode, errorTail, false, reason);
    }

    /// <summary>
    /// The worker learns of a cancel from its next heartbeat and stops between batches; if it has
    /// not exited after the grace period it is killed.
    /// </summary>
    /// <summary>Ends a worker that is alive but no longer doing its job; the reason becomes the run's error.</summary>
    public void Kill(int runId, string reason)
    {
        if (!_running.TryGetValue(runId, out var process)) return;
        _killReasons[runId] = reason;
        log.LogWarning("Killing the worker of run {RunId}: {Reason}", runId, reason);
        TryKill(process);
    }

    public void RequestCancel(int runId)
    {
        if (!_running.TryGetValue(runId, out var process)) return;
        _ = Task.Run(async () =>
        {
            try
            {
                using var grace = new CancellationTokenSource(options.CancelGrace);
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                log.LogInformation("Run {RunId}: worker did not stop within {Grace}; killing it", runId, options.CancelGrace);
                TryKill(process);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        });
    }

    private void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            log.LogWarning(ex, "Could not remove the work folder {Folder}", folder);
        }
    }

    private void TryKill(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            log.LogDebug(ex, "Worker already exited");
        }
    }
}
