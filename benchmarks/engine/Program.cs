using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ModelOps.Benchmarks.Engine;
using ModelOps.Engine;
using ModelOps.Engine.Training;

// A child run for the memory row: trains the CNN for one epoch and reports its own peak resident set.
if (args.Length > 0 && args[0] == "memory-child")
{
    var child = BenchOptions.Parse(args[1..]);
    Torch.SetNumThreads(child.Threads);
    using var data = FashionMnist.LoadTrain(child.DataDir, child.Samples);
    var (_, afterLoad) = Workloads.Memory();
    var clock = Stopwatch.StartNew();
    var run = Workloads.Train(data, Workloads.Models.Single(m => m.Name == "cnn"), 1, child.Seed, warmupBatches: 0);
    var (peak, rss) = Workloads.Memory();
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["peak_kb"] = peak, ["rss_after_load_kb"] = afterLoad, ["rss_end_kb"] = rss,
        ["seconds"] = clock.Elapsed.TotalSeconds, ["last_loss"] = run.LastLoss, ["threads"] = Torch.GetNumThreads(),
    }));
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var total = Stopwatch.StartNew();
Torch.SetNumThreads(options.Threads);
var report = new Report();
string load = File.ReadAllText("/proc/loadavg").Trim();
Console.WriteLine($"[bench] machine: {Environment.ProcessorCount} cores, load average {load}; threads {options.Threads} on both sides"
    + (options.Quick ? "; --quick (1 epoch each: a smoke run, not figures to quote)" : ""));

string peerVersion = "?";
try
{
    var info = ChildProcess.Python(options, "info");
    peerVersion = info.GetProperty("torch").GetString() ?? "?";
    string engineLib = LibtorchPath();
    string peerLib = info.GetProperty("libtorch").GetString() ?? "?";
    string note = $"PyTorch {peerVersion} (Python {info.GetProperty("python").GetString()}, {options.Python}); libtorch mapped by the engine: {engineLib}"
        + (engineLib == peerLib ? " (the same file as PyTorch's)" : $"; by PyTorch: {peerLib}");
    report.Note(note);
    Console.WriteLine($"[bench] {note}");
}
catch (Exception e)
{
    Console.Error.WriteLine($"[bench] the peer cannot run: {e.Message}");
    report.Note($"The peer could not start ({options.Python}): {e.Message}");
}
report.Note($"{Environment.ProcessorCount} cores; libtorch threads {options.Threads} on both sides (Torch.SetNumThreads / torch.set_num_threads); seed {options.Seed}; .NET {Environment.Version}");

if (options.Runs("overhead"))
{
    Section("overhead", () =>
    {
        Console.WriteLine($"[bench] overhead: a + b on 16 floats, {options.OverheadBatches} batches of {options.OverheadCalls:N0} calls");
        var disposed = Workloads.AddOverhead(options.OverheadCalls, options.OverheadBatches, disposeEach: true);
        var scoped = Workloads.AddOverhead(options.OverheadCalls, options.OverheadBatches, disposeEach: false);
        var peer = Doubles(ChildProcess.Python(options, "overhead", "--calls", Str(options.OverheadCalls), "--batches", Str(options.OverheadBatches)), "ns_per_call");
        report.Cost($"`a + b`, 16 floats: ns per call, result disposed at once (`using`), scope per {options.OverheadCalls:N0} calls", disposed, peer, "ns");
        report.Cost("`a + b`, 16 floats: ns per call, results freed by the batch's scope", scoped, peer, "ns");
    });
}

if (options.Runs("throughput"))
{
    Section("throughput", () =>
    {
        using var data = FashionMnist.LoadTrain(options.DataDir, options.Samples);
        foreach (var spec in Workloads.Models)
        {
            Console.WriteLine($"[bench] throughput: {spec.Title}, {options.Epochs} epoch(s) per side after {Workloads.WarmupBatches} warm-up batches");
            var engine = Workloads.Train(data, spec, options.Epochs, options.Seed);
            var peer = ChildProcess.Python(options, "train", "--model", spec.Name, "--epochs", Str(options.Epochs));
            double? target = spec.Name == "small" ? 1.5 : null;
            report.Rate($"training, {spec.Title}: samples/s over a {data.Count:N0}-sample epoch", engine.SamplesPerSecond, Doubles(peer, "samples_per_s"), "samples/s", target);
            report.Note($"{spec.Name}: first warm-up batch loss engine {engine.FirstLoss:0.000000} vs PyTorch {peer.GetProperty("first_loss").GetDouble():0.000000}"
                + $" (same seed, data and order: equal when the initial weights match); last loss {engine.LastLoss:0.0000} vs {peer.GetProperty("last_loss").GetDouble():0.0000}");
        }
    });
}

if (options.Runs("memory"))
{
    Section("memory", () =>
    {
        Console.WriteLine("[bench] memory: one CNN epoch in a separate process per side");
        var engine = ChildProcess.Self(options, "memory-child");
        var peer = ChildProcess.Python(options, "memory");
        double Mib(JsonElement e, string key) => e.GetProperty(key).GetInt64() / 1024.0;
        report.Cost("peak resident memory (VmHWM), process training the CNN one epoch", [Mib(engine, "peak_kb")], [Mib(peer, "peak_kb")], "MiB");
        report.Note($"memory: resident after loading the data {Report.Format(Mib(engine, "rss_after_load_kb"))} MiB (engine) vs {Report.Format(Mib(peer, "rss_after_load_kb"))} MiB (PyTorch);"
            + $" the epoch took {engine.GetProperty("seconds").GetDouble():0} s vs {peer.GetProperty("seconds").GetDouble():0} s");
    });
}

if (options.Runs("accuracy"))
{
    var files = new DatasetFiles
    {
        Kind = DatasetFiles.Idx,
        TrainImagesPath = Path.Combine(options.DataDir, "train-images-idx3-ubyte.gz"),
        TrainLabelsPath = Path.Combine(options.DataDir, "train-labels-idx1-ubyte.gz"),
        TestImagesPath = Path.Combine(options.DataDir, "t10k-images-idx3-ubyte.gz"),
        TestLabelsPath = Path.Combine(options.DataDir, "t10k-labels-idx1-ubyte.gz"),
    };
    var common = new TrainingOptions
    {
        BatchSize = options.AccBatchSize, Optimizer = options.AccOptimizer, LearningRate = options.AccLearningRate,
        WeightDecay = options.AccWeightDecay, Schedule = options.AccSchedule, WarmupEpochs = options.AccWarmupEpochs,
        LabelSmoothing = options.AccLabelSmoothing, Seed = options.Seed, Device = "cpu", MaxTrainSamples = options.Samples,
    };
    if (options.AccDropout is { } dropout) common = common with { Dropout = dropout };
    var runs = new[]
    {
        (Name: "cnn", Options: common with { Template = "cnn", Epochs = options.CnnEpochs }, Target: 0.92,
            Reference: "dataset README: 0.916 (2 conv + pooling), 0.934 (with BN)"),
        (Name: "mlp", Options: common with { Template = "mlp", Epochs = options.MlpEpochs, HiddenLayers = options.MlpHidden }, Target: 0.88,
            Reference: "dataset README: 0.883 (MLP 256-128-100)"),
    };
    foreach (var run in runs)
    {
        Section($"accuracy ({run.Name})", () =>
        {
            Console.WriteLine($"[bench] accuracy: Trainer.Train, template {run.Name}, {run.Options.Epochs} epoch(s), {run.Options.Optimizer} lr {run.Options.LearningRate} wd {run.Options.WeightDecay}, {run.Options.Schedule}");
            var workDir = Directory.CreateTempSubdirectory("modelops-engine-bench-").FullName;
            try
            {
                var clock = Stopwatch.StartNew();
                var result = Trainer.Train(run.Options, files, workDir, new EpochPrinter(run.Name), null, CancellationToken.None);
                double seconds = clock.Elapsed.TotalSeconds;
                double accuracy = result.Evaluation.Accuracy;
                report.Info($"Fashion-MNIST test accuracy, `{run.Name}` template (Trainer; {Describe(run.Options)})",
                    $"{accuracy:0.0000} ({result.EpochsCompleted} epochs, {seconds:0} s wall)", run.Reference,
                    $">= {run.Target:0.00}", accuracy >= run.Target ? "yes" : $"no ({run.Target - accuracy:0.0000} short)");
            }
            finally
            {
                Directory.Delete(workDir, recursive: true);
            }
        });
    }
}

report.Note($"load average at the start {load}, at the end {File.ReadAllText("/proc/loadavg").Trim()}; whole run {total.Elapsed.TotalMinutes:0.0} min"
    + (options.Quick ? "; --quick: one epoch each, a smoke run" : ""));
string markdown = report.ToMarkdown();
Console.WriteLine();
Console.WriteLine(markdown);
string resultsPath = Path.GetFullPath(options.ResultsPath);
Directory.CreateDirectory(Path.GetDirectoryName(resultsPath)!);
File.WriteAllText(resultsPath, $"# Engine benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n\n`bash benchmarks/engine/run.sh {string.Join(' ', args)}`\n\n{markdown}");
Console.WriteLine($"[bench] table written to {resultsPath}");
return 0;

// A section that fails (a peer that cannot start, a trainer mid-rewrite) is reported and the rest still runs.
void Section(string name, Action body)
{
    try
    {
        body();
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"[bench] {name} failed: {e}");
        report.Failed(name, $"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
    }
}

static double[] Doubles(JsonElement e, string key) => e.GetProperty(key).EnumerateArray().Select(v => v.GetDouble()).ToArray();

static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);

static string Describe(TrainingOptions o) =>
    FormattableString.Invariant($"{o.Optimizer} lr {o.LearningRate:G3}, wd {o.WeightDecay:G3}, {o.Schedule}, batch {o.BatchSize}")
    + (o.Template == "mlp" ? $", hidden {string.Join('-', o.HiddenLayers)}" : "");

// The engine's native library maps libtorch once a Torch call has been made (SetNumThreads above).
static string LibtorchPath() =>
    File.ReadLines("/proc/self/maps").Where(l => l.Contains("libtorch_cpu", StringComparison.Ordinal))
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).FirstOrDefault() ?? "not found";

/// <summary>Prints each epoch of a trainer run, so a long accuracy run shows where it is.</summary>
internal sealed class EpochPrinter(string name) : ITrainingObserver
{
    public void OnProgress(TrainingProgress progress) { }

    public void OnEpochEnd(EpochMetrics m) => Console.Error.WriteLine(FormattableString.Invariant(
        $"[engine] {name} epoch {m.Epoch}: train loss {m.TrainLoss:0.0000}, val loss {m.ValidationLoss:0.0000}, val accuracy {m.ValidationAccuracy:0.0000}, lr {m.LearningRate:G3}, {m.Seconds:0} s"));

    public void OnCheckpoint(string checkpointPath, int epoch) { }
}
