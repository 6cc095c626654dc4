using System.Diagnostics;
using System.Runtime.InteropServices;
using ModelOps.Engine;
using ModelOps.Engine.Training;
using ModelOps.Jobs.Protocol;
using ModelOps.Jobs.Scheduling;

namespace ModelOps.Jobs.Worker;

/// <summary>
/// One attempt of one run: fetch the spec, fetch the data (and the checkpoint when resuming),
/// train with the Engine while reporting, upload the model, finish. Exit code 0 when the portal
/// was told the outcome (Finished, Failed or Cancelled); non-zero when it could not be told.
/// </summary>
public static class WorkerProgram
{
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = ParseArgs(args);
        if (options is null)
        {
            Console.Error.WriteLine("usage: ModelOps.Jobs --portal URL --run ID --attempt N --work-dir DIR  (token in $" + WorkerProcesses.TokenVariable + ")");
            return 2;
        }
        DieWithParent();
        // A GPU server's CUDA LibTorch (ModelOps:LibTorchDirectory) must be loaded before the first torch call.
        NativeBackend.EnsureLoaded();
        if (NativeBackend.LoadError is { } loadError) Console.Error.WriteLine($"warning: {loadError}");
        // The portal decides each worker's share of the cores.
        if (int.TryParse(Environment.GetEnvironmentVariable(WorkerProcesses.ThreadsVariable), out var threads) && threads > 0)
            TorchSharp.torch.set_num_threads(threads);
        using var portal = new PortalClient(options.Portal, options.RunId, options.Token);
        using var cancel = new CancellationTokenSource();
        try
        {
            return await TrainAsync(portal, options, cancel);
        }
        catch (PortalUnreachableException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 3;
        }
        catch (PortalRejectedException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 4;
        }
    }

    private static async Task<int> TrainAsync(PortalClient portal, WorkerOptions options, CancellationTokenSource cancel)
    {
        var spec = await portal.GetSpecAsync(CancellationToken.None);
        Directory.CreateDirectory(options.WorkDir);
        var data = await FetchDatasetAsync(portal, spec, options.WorkDir);
        string? resume = null;
        if (spec.ResumeFromEpoch > 0)
        {
            resume = Path.Combine(options.WorkDir, "resume.ckpt");
            await portal.DownloadArtifactAsync(WorkerArtifacts.Checkpoint, resume, CancellationToken.None);
        }
        // Fine-tuning: the parent version's package, served to this run's token only (the worker never opens the store).
        string? parent = null;
        if (spec.ParentModel is { } parentModel)
        {
            parent = Path.Combine(options.WorkDir, "parent.mopkg");
            if (!File.Exists(parent) || new FileInfo(parent).Length != parentModel.SizeBytes)
                await portal.DownloadArtifactAsync(WorkerArtifacts.ParentModel, parent, CancellationToken.None);
        }
        // Report the device training will really use ("auto" resolves to cuda:0 or cpu), the same way the trainer resolves it.
        string device;
        try
        {
            device = Devices.Name(Devices.Resolve(spec.Device));
        }
        catch (ArgumentException ex)
        {
            await portal.StartAsync(new StartReport(spec.Attempt, Environment.ProcessId, spec.Device), CancellationToken.None);
            await portal.FinishAsync(new FinishReport(FinishStatus.Failed, ex.Message, null), CancellationToken.None);
            return 1;
        }
        await portal.StartAsync(new StartReport(spec.Attempt, Environment.ProcessId, device), CancellationToken.None);
        // "auto" on a GPU server whose configured LibTorch did not load trains on the CPU: say why on the run.
        if (NativeBackend.LoadError is { } loadError)
            await portal.LogBatchAsync(new LogBatch(Tags: [Text(DeviceNoteTag, $"{loadError}; trained on {device}")]), CancellationToken.None);

        var observer = new ReportingObserver(portal, CancellationToken.None);
        // System metrics and compute use (docs/cost.md): steps count seconds since the run first started.
        var offset = spec.StartedAt is { } first ? (long)Math.Max(0, (DateTime.UtcNow - DateTime.SpecifyKind(first, DateTimeKind.Utc)).TotalSeconds) : 0;
        using var sampler = new SystemSampler(device, offset, observer.Enqueue);
        sampler.Start();
        using var stopBeats = new CancellationTokenSource();
        using var lost = new CancellationTokenSource();
        var beats = HeartbeatLoopAsync(portal, observer, sampler, spec, cancel, lost, stopBeats.Token);
        // The spec's device is the one resolved for this attempt; the run's own choice was folded into it by the portal.
        var training = spec.Options with { Device = spec.Device };
        FinishReport report;
        try
        {
            TrainingResult result;
            sampler.TrainingStarted();
            try
            {
                result = await Task.Run(() => Trainer.Train(training, data, options.WorkDir, observer, resume, cancel.Token, parent));
            }
            finally
            {
                sampler.TrainingEnded();
            }
            await observer.FlushAsync();
            await portal.UploadArtifactAsync(WorkerArtifacts.Model, result.ModelPackagePath, null, CancellationToken.None);
            if (parent is not null) await LogFineTuningAsync(portal, result);
            await ExportPyTorchAsync(portal, result.ModelPackagePath, options.WorkDir);
            report = new FinishReport(FinishStatus.Finished, null, ToDto(result.Evaluation), ToDto(result.CrossValidation));
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            // The heartbeat was refused or the portal stayed away: the run is not ours to report on.
            Console.Error.WriteLine("Stopped: the portal no longer accepts this attempt.");
            return 3;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            report = new FinishReport(FinishStatus.Cancelled, "Cancelled by request.", null);
        }
        catch (Exception ex) when (ex is not PortalUnreachableException and not PortalRejectedException)
        {
            Console.Error.WriteLine(ex);
            report = new FinishReport(FinishStatus.Failed, Describe(ex), null);
        }
        finally
        {
            await stopBeats.CancelAsync();
            await beats;
            sampler.Stop();
        }
        try { await observer.FlushAsync(); } catch (Exception ex) when (ex is not PortalUnreachableException) { Console.Error.WriteLine(ex.Message); }
        await portal.FinishAsync(report with { Compute = sampler.Usage() }, CancellationToken.None);
        return report.Status == FinishStatus.Failed ? 1 : 0;
    }

    /// <summary>
    /// Heartbeats (whose reply may ask to cancel) and step-metric flushes, until stopped. If the
    /// portal refuses the attempt (another attempt took over, the run was settled) or stays away,
    /// training is stopped through <paramref name="lost"/> rather than carrying on for nobody.
    /// </summary>
    private static async Task HeartbeatLoopAsync(PortalClient portal, ReportingObserver observer, SystemSampler sampler, RunSpec spec,
        CancellationTokenSource cancel, CancellationTokenSource lost, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var p = observer.Latest;
                var reply = await portal.HeartbeatAsync(new Heartbeat(p?.Fraction ?? 0, p?.Epoch ?? spec.ResumeFromEpoch, spec.Options.Epochs,
                    p is null ? "preparing" : $"epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.BatchesPerEpoch}", sampler.Usage()), stop);
                if (reply.CancelRequested && !cancel.IsCancellationRequested)
                    await cancel.CancelAsync();
                await observer.FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is PortalRejectedException or PortalUnreachableException)
        {
            Console.Error.WriteLine(ex.Message);
            await lost.CancelAsync();
            await cancel.CancelAsync();
        }
    }

    private static async Task<DatasetFiles> FetchDatasetAsync(PortalClient portal, RunSpec spec, string workDir)
    {
        var folder = Path.Combine(workDir, "dataset");
        Directory.CreateDirectory(folder);
        var local = new Dictionary<string, string>();
        foreach (var file in spec.Dataset.Files)
        {
            var target = Path.Combine(folder, Path.GetFileName(file.Name));
            if (!File.Exists(target) || new FileInfo(target).Length != file.SizeBytes)
                await portal.DownloadDatasetFileAsync(spec.Dataset, file.Name, target, CancellationToken.None);
            local[file.Name] = target;
        }
        return new DatasetFiles
        {
            Kind = spec.Dataset.Kind,
            CsvPath = local.GetValueOrDefault("data.csv"),
            LabelColumn = spec.Dataset.LabelColumn,
            TextColumn = spec.Dataset.TextColumn,
            TrainImagesPath = local.GetValueOrDefault("train-images.idx"),
            TrainLabelsPath = local.GetValueOrDefault("train-labels.idx"),
            TestImagesPath = local.GetValueOrDefault("test-images.idx"),
            TestLabelsPath = local.GetValueOrDefault("test-labels.idx"),
            ClassNames = spec.Dataset.ClassNames?.ToArray(),
        };
    }

    /// <summary>The tag that says why a run trained on another device than it could have (the configured LibTorch did not load).</summary>
    public const string DeviceNoteTag = "device_note";
    /// <summary>The tag that says why no PyTorch state dict was kept.</summary>
    public const string PyTorchExportErrorTag = "pytorch_export_error";

    private static KeyValue Text(string key, string value) =>
        new(key, System.Text.Json.JsonSerializer.SerializeToElement(value.Length > 6000 ? value[..6000] : value));

    /// <summary>What fine-tuning kept from the parent: the frozen layer count and the parameters that started fresh (a new head).</summary>
    private static Task LogFineTuningAsync(PortalClient portal, TrainingResult result)
    {
        var fresh = result.FreshParameters.Count == 0 ? "none" : string.Join(",", result.FreshParameters);
        return portal.LogBatchAsync(new LogBatch(Params:
        [
            Text("frozen_layers", result.FrozenLayers.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Text("fresh_parameters", fresh),
        ]), CancellationToken.None);
    }

    /// <summary>
    /// Keeps a PyTorch-loadable state dict (model.pt) beside the package. A model that cannot be exported
    /// still finishes its run: the reason goes to the log and to a tag on the run.
    /// </summary>
    private static async Task ExportPyTorchAsync(PortalClient portal, string packagePath, string workDir)
    {
        var target = Path.Combine(workDir, WorkerArtifacts.PyTorchStateDict);
        try
        {
            await Task.Run(() => ModelOps.Engine.Models.Predictor.ExportPyTorchStateDict(packagePath, target));
            await portal.UploadRunArtifactAsync(WorkerArtifacts.PyTorchStateDict, target, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not PortalUnreachableException and not OperationCanceledException)
        {
            Console.Error.WriteLine($"warning: no PyTorch state dict: {ex.Message}");
            await portal.LogBatchAsync(new LogBatch(Tags: [Text(PyTorchExportErrorTag, Describe(ex))]), CancellationToken.None);
        }
    }

    /// <summary>The cross-validation report as the protocol carries it; figures that are NaN (none computed) are left out.</summary>
    public static CrossValidationDto? ToDto(CrossValidationReport? cv)
    {
        if (cv is null) return null;
        static IReadOnlyDictionary<string, double> Finite(IReadOnlyDictionary<string, double> d) =>
            d.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        return new CrossValidationDto(cv.K,
            cv.Folds.Select(f => new FoldDto(f.Fold, f.TrainSamples, f.HeldOutSamples, f.Epochs, Finite(f.Metrics))).ToList(),
            Finite(cv.Mean), Finite(cv.Std), cv.RefitEpochs);
    }

    /// <summary>The engine's report as the protocol carries it: NaN and infinities (no such figure) become null.</summary>
    public static EvaluationReportDto ToDto(EvaluationReport e)
    {
        static double? F(double? v) => v is { } x && double.IsFinite(x) ? x : null;
        return new EvaluationReportDto(F(e.Accuracy), F(e.PrecisionMacro), F(e.RecallMacro), F(e.F1Macro), e.ConfusionMatrix, e.ClassNames, e.Samples,
            e.Task, F(e.PrecisionWeighted), F(e.RecallWeighted), F(e.F1Weighted), F(e.RocAuc), F(e.Mse), F(e.Mae), F(e.R2));
    }

    private static string Describe(Exception ex)
    {
        var message = ex.Message.Trim();
        if (message.Length > 2000) message = message[..2000] + "…";
        return $"{ex.GetType().Name}: {message}";
    }

    /// <summary>
    /// Ends this process when the portal that started it dies, so a portal restart never leaves an
    /// orphan training on the GPU; the restarted portal resumes the run from its checkpoint.
    /// Not PR_SET_PDEATHSIG: Linux sends that when the parent *thread* exits, and the portal starts
    /// workers from thread-pool threads, which the pool retires when idle (it killed runs ~30 s in).
    /// Instead a watcher notices the re-parenting that follows the parent's death.
    /// </summary>
    private static void DieWithParent()
    {
        if (!OperatingSystem.IsLinux()) return;
        var parent = getppid();
        var watcher = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(500);
                if (getppid() != parent)
                {
                    Console.Error.WriteLine("The portal that started this worker is gone; stopping.");
                    _ = kill(Environment.ProcessId, SIGKILL); // no managed shutdown: native training threads may be busy
                }
            }
        }) { IsBackground = true, Name = "parent watcher" };
        watcher.Start();
    }

    private const int SIGKILL = 9;

    [DllImport("libc")]
    private static extern int getppid();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private sealed record WorkerOptions(string Portal, int RunId, int Attempt, string WorkDir, string Token);

    private static WorkerOptions? ParseArgs(string[] args)
    {
        string? Get(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        var token = Environment.GetEnvironmentVariable(WorkerProcesses.TokenVariable);
        if (Get("--portal") is not { } portal || !int.TryParse(Get("--run"), out var run) || Get("--work-dir") is not { } dir || string.IsNullOrEmpty(token))
            return null;
        _ = int.TryParse(Get("--attempt"), out var attempt);
        return new WorkerOptions(portal, run, attempt, dir, token);
    }
}
