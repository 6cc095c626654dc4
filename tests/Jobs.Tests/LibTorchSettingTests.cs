using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using ModelOps.Engine;
using ModelOps.Jobs.Scheduling;
using ModelOps.TestSupport;

namespace ModelOps.Jobs.Tests;

/// <summary>
/// ModelOps:LibTorchDirectory: each worker gets it as MODELOPS_LIBTORCH_DIR; a run that asked for cuda
/// fails with the engine's reason when that LibTorch cannot be used, and one that asked for auto trains on
/// the CPU and says why.
/// </summary>
public sealed class LibTorchSettingTests
{
    [Fact]
    public async Task The_configured_folder_reaches_the_worker_process_as_its_environment_variable()
    {
        using var folder = new TempFolder();
        var seen = Path.Combine(folder.Path, "seen.txt");
        var fake = Path.Combine(folder.Path, "fake-worker.sh");
        await File.WriteAllTextAsync(fake, $"#!/bin/sh\nprintf '%s' \"${NativeBackend.DirectoryVariable}\" > '{seen}'\n");
        if (!OperatingSystem.IsLinux()) return; // the worker is a Linux process
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var workers = new WorkerProcesses(new JobsOptions
        {
            JobStorePath = Path.Combine(folder.Path, "jobs.db"),
            WorkerExecutable = fake,
            PortalUrl = () => "http://127.0.0.1:9",
            WorkRoot = Path.Combine(folder.Path, "work"),
            LibTorchDirectory = "/opt/libtorch-cuda",
        }, NullLogger<WorkerProcesses>.Instance);

        var exit = await workers.RunAsync(new WorkerLaunch(1, 1, "token"), CancellationToken.None);

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal("/opt/libtorch-cuda", await File.ReadAllTextAsync(seen));
    }

    [Fact]
    public async Task With_an_unusable_LibTorch_cuda_fails_with_the_reason_and_auto_trains_on_the_cpu_saying_why()
    {
        using var data = new TempFolder();
        var missing = Path.Combine(data.Path, "no-libtorch-here");
        await using var portal = await PortalProcess.StartAsync(data.Path, null, "--ModelOps:SeedDemoData=false", $"--ModelOps:LibTorchDirectory={missing}");
        var version = (await portal.UploadCsvAsync("points", TestData.SeparableCsv(120))).GetProperty("id").GetInt32();
        var cuda = await portal.CreateRunAsync(new { datasetVersionId = version, options = new { epochs = 1, device = "cuda" } });
        var auto = await portal.CreateRunAsync(new { datasetVersionId = version, options = new { epochs = 1, device = "auto" } });

        var failed = await portal.WaitForRunAsync(cuda, r => r.GetProperty("status").GetString() is "Failed" or "Finished", TimeSpan.FromSeconds(90));
        Assert.Equal("Failed", failed.GetProperty("status").GetString());
        var error = failed.GetProperty("error").GetString()!;
        Assert.Contains("'cuda' was requested but CUDA is not available", error);
        Assert.Contains($"the LibTorch folder '{missing}' does not exist", error);

        var finished = await portal.WaitForRunAsync(auto, r => r.GetProperty("status").GetString() is "Failed" or "Finished", TimeSpan.FromSeconds(90));
        Assert.True(finished.GetProperty("status").GetString() == "Finished", finished.ToString());
        Assert.Equal("cpu", finished.GetProperty("device").GetString());
        var note = finished.GetProperty("tags").GetProperty(Worker.WorkerProgram.DeviceNoteTag).GetString()!;
        Assert.Contains("does not exist", note);
        Assert.EndsWith("trained on cpu", note);
    }
}
