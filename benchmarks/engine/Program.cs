using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ModelOps.Benchmarks.Engine;
using ModelOps.Engine;
using ModelOps.Engine.Training;
using static TorchSharp.torch;

// Child runs for the memory rows: each reports its own peak resident set, so each side is measured alone.
if (args.Length > 0 && args[0] is "memory-child" or "trainer-memory-child")
{
    var child = BenchOptions.Parse(args[1..]);
    set_num_threads(child.Threads);
    var clock = Stopwatch.StartNew();
    var result = new Dictionary<string, object>();
    if (args[0] == "memory-child")
    {
        // The same process as peer.py's: load the training split, train the CNN for one epoch.
        using var data = FashionMnist.LoadTrain(child.DataDir, child.Samples);
        result["rss_after_load_kb"] = Workloads.Memory().RssKb;
        var run = Workloads.Train(data, Workloads.Models.Single(m => m.Name == "cnn"), 1, child.Seed, weightsDirectory: null, warmupBatches: 0);
        result["last_loss"] = run.LastLoss;
    }
    else
    {
        // The engine's Trainer (cnn template, one epoch): data loading, checkpoint, test evaluation and the package included.
        var oneEpoch = EngineRuns.ComparisonOptions("cnn", child) with { Epochs = 1 };
        string workDir = Directory.CreateTempSubdirectory("modelops-engine-bench-").FullName;
        try
        {
            Trainer.Train(oneEpoch, EngineRuns.FashionFiles(child.DataDir), workDir, NullTrainingObserver.Instance, null, CancellationToken.None);
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
    }
    var status = Workloads.Status();
    result["peak_kb"] = status["VmHWM"];
    result["rss_end_kb"] = status["VmRSS"];
    result["rss_anon_end_kb"] = status["RssAnon"];
    result["rss_file_end_kb"] = status["RssFile"];
    result["managed_heap_kb"] = GC.GetTotalMemory(false) / 1024;
    result["seconds"] = clock.Elapsed.TotalSeconds;
    result["threads"] = get_num_threads();
    Console.WriteLine(JsonSerializer.Serialize(result));
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (HelpRequested e)
{
    Console.WriteLine(e.Message);
    return 0;
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var total = Stopwatch.StartNew();
set_num_threads(options.Threads);
var report = new Report();
string loadAtStart = LoadAverage();
Console.WriteLine($"[bench] machine: {Environment.ProcessorCount} cores, load average {loadAtStart}; {options.Threads} libtorch threads on both sides"
    + (options.Quick ? "; --quick (a smoke run: not figures to quote)" : ""));
void Log(string line) => Console.Error.WriteLine(line);

// Which libtorch each side runs: the engine's from TorchSharp's package (copied into this build's output),
// PyTorch's from Debian.
string engineLibtorch = $"LibTorch {__version__} (TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3)}, "
    + $"package {LibtorchPackage()}): {LibtorchPath()}";
string peerLibtorch = "not started";
try
{
    var info = ChildProcess.Python(options, "info");
    peerLibtorch = $"PyTorch {info.GetProperty("torch").GetString()} (Debian python3-torch {info.GetProperty("package").GetString()}, Python {info.GetProperty("python").GetString()}): {info.GetProperty("libtorch").GetString()}";
}
catch (Exception e)
{
    Log($"[bench] the peer cannot run: {e.Message}");
    peerLibtorch = $"could not start ({options.Python}): {e.Message.Split('\n')[0]}";
}
report.Info("libtorch each side ran", engineLibtorch, peerLibtorch);
Console.WriteLine($"[bench] engine: {engineLibtorch}");
Console.WriteLine($"[bench] peer:   {peerLibtorch}");
report.Note($"{Environment.ProcessorCount} cores; {options.Threads} libtorch intra-op threads on both sides (torch.set_num_threads); seed {options.Seed}; .NET {Environment.Version}; {NativeBackend.Describe()}");

if (options.Runs("overhead"))
{
    Section("overhead", () =>
    {
        Console.WriteLine($"[bench] overhead: a + b on 16 floats, {options.OverheadBatches} batches of {options.OverheadCalls:N0} calls");
        var disposed = Workloads.AddOverhead(options.OverheadCalls, options.OverheadBatches, disposeEach: true);
        var scoped = Workloads.AddOverhead(options.OverheadCalls, options.OverheadBatches, disposeEach: false);
        var peer = Doubles(ChildProcess.Python(options, "overhead", "--calls", Str(options.OverheadCalls), "--batches", Str(options.OverheadBatches)), "ns_per_call");
        report.Cost("`a + b`, 16 floats, ns per op: result disposed at once (`using var c = a + b`)", disposed, peer, "ns");
        report.Cost($"`a + b`, 16 floats, ns per op: results left to a dispose scope (closed every {options.OverheadCalls:N0} ops, inside the timing)", scoped, peer, "ns");
    });
}

if (options.Runs("throughput"))
{
    Section("throughput", () =>
    {
        using var data = FashionMnist.LoadTrain(options.DataDir, options.Samples);
        string weights = Directory.CreateTempSubdirectory("modelops-engine-bench-weights-").FullName;
        try
        {
            foreach (var spec in Workloads.Models.Where(m => options.Models.Contains(m.Name)))
            {
                Section($"throughput ({spec.Name})", () =>
                {
                    Console.WriteLine($"[bench] throughput: {spec.Title}, {options.Epochs} epoch(s) per side after {Workloads.WarmupBatches} warm-up batches");
                    var engine = Workloads.Train(data, spec, options.Epochs, options.Seed, weights, log: Log);
                    var peer = ChildProcess.Python(options, "train", "--model", spec.Name, "--epochs", Str(options.Epochs),
                        "--weights", Path.Combine(weights, spec.Name));
                    report.Rate($"{spec.Title}: samples/s over a {data.Count:N0}-sample epoch (TorchSharp vs PyTorch)",
                        engine.SamplesPerSecond, Doubles(peer, "samples_per_s"), "samples/s", spec.TargetRatio);
                    double peerInitial = peer.GetProperty("initial_loss").GetDouble(), peerFirst = peer.GetProperty("first_loss").GetDouble();
                    report.Note($"{spec.Name} ({engine.Parameters:N0} parameters, initial weights made by TorchSharp and loaded by PyTorch): first batch's loss "
                        + $"at the initial weights (eval mode) {engine.InitialLoss:0.000000} vs {peerInitial:0.000000} ({Same(engine.InitialLoss, peerInitial)}); "
                        + $"first training step {engine.FirstLoss:0.000000} vs {peerFirst:0.000000} ({Same(engine.FirstLoss, peerFirst)}"
                        + (spec.Name == "cnn" ? ": the same dropout masks" : "")
                        + $"); last loss {engine.LastLoss:0.0000} vs {peer.GetProperty("last_loss").GetDouble():0.0000}");
                });
            }
        }
        finally
        {
            Directory.Delete(weights, recursive: true);
        }
    });
}

if (options.Runs("trainer"))
{
    foreach (var template in new[] { "mlp", "cnn" }.Where(options.Models.Contains))
    {
        Section($"trainer ({template})", () =>
        {
            Console.WriteLine($"[bench] trainer: Trainer.Train ({template} template) against a bare TorchSharp loop on the same tensors, {options.Epochs} epoch(s) each");
            var c = EngineRuns.CompareWithTrainer(template, options, Log);
            string shape = template == "mlp" ? "MLP 784-256-128-10" : "CNN 32/64, BN, FC 128, dropout 0.25";
            report.Rate($"`Trainer.Train`, `{template}` template ({shape}, batch 128, Adam): samples/s per training epoch (engine's Trainer vs a bare TorchSharp loop)",
                c.TrainerSeconds.Select(s => c.Samples / s).ToArray(), c.BareSeconds.Select(s => c.Samples / s).ToArray(), "samples/s", 0.95,
                peerLabel: "bare loop");
            report.Note($"trainer {template}: epoch 1 mean training loss, Trainer {c.TrainerFirstEpochLoss:0.000000} vs bare loop {c.BareFirstEpochLoss:0.000000} "
                + $"({Same(c.TrainerFirstEpochLoss, c.BareFirstEpochLoss)}: same initial weights, order and dropout seeds); {c.Samples:N0} samples per epoch; "
                + $"outside the epoch times, each checkpoint took {c.CheckpointSeconds:0.00} s to write and Trainer.Train took {c.TrainerWallSeconds:0} s in all"
                + (c.PrefetchedSeconds.Length == 0 ? "" : $"; the bare loop fed by the Trainer's BatchPrefetcher (a pool thread gathers batch b + 1): "
                    + $"{Stats.Summary(c.PrefetchedSeconds.Select(s => c.Samples / s).ToArray(), "samples/s")}"));
        });
    }
}

if (options.Runs("memory"))
{
    Section("memory", () =>
    {
        Console.WriteLine("[bench] memory: one CNN epoch in a separate process per side");
        var engine = ChildProcess.Self(options, "memory-child");
        var peer = ChildProcess.Python(options, "memory");
        double Mib(JsonElement e, string key) => e.GetProperty(key).GetInt64() / 1024.0;
        report.Cost("peak resident memory (VmHWM) of a process loading Fashion-MNIST and training the CNN one epoch, bare loop (TorchSharp vs PyTorch)",
            [Mib(engine, "peak_kb")], [Mib(peer, "peak_kb")], "MiB", 1.0);
        report.Note($"memory: resident after loading the data {Report.Format(Mib(engine, "rss_after_load_kb"))} MiB (TorchSharp) vs {Report.Format(Mib(peer, "rss_after_load_kb"))} MiB (PyTorch);"
            + $" at the end anonymous {Report.Format(Mib(engine, "rss_anon_end_kb"))} vs {Report.Format(Mib(peer, "rss_anon_end_kb"))} MiB, file-backed (mapped libraries) {Report.Format(Mib(engine, "rss_file_end_kb"))} vs {Report.Format(Mib(peer, "rss_file_end_kb"))} MiB"
            + $" (TorchSharp's managed heap {Report.Format(Mib(engine, "managed_heap_kb"))} MiB); the child took {engine.GetProperty("seconds").GetDouble():0} s vs {peer.GetProperty("seconds").GetDouble():0} s");
        Console.WriteLine("[bench] memory: the Trainer (cnn template) for one epoch in a separate process");
        var trainer = ChildProcess.Self(options, "trainer-memory-child");
        report.Cost("peak resident memory (VmHWM), the same through `Trainer.Train` (`cnn` template; it also loads the test split, writes a checkpoint and the package)",
            [Mib(trainer, "peak_kb")], [Mib(peer, "peak_kb")], "MiB");
    });
}

if (options.Runs("accuracy"))
{
    var files = EngineRuns.FashionFiles(options.DataDir);
    foreach (var template in new[] { "cnn", "mlp" }.Where(options.Models.Contains))
    {
        Section($"accuracy ({template})", () =>
        {
            var o = EngineRuns.AccuracyOptions(template, options);
            Console.WriteLine($"[bench] accuracy: Trainer.Train, {template} template, {Describe(o)}");
            var run = EngineRuns.Accuracy(o, files, Log, $"accuracy {template}");
            double target = template == "cnn" ? 0.93 : 0.89;
            bool inTime = template != "cnn" || run.TrainingSeconds <= options.CnnSecondsLimit;
            string met = run.Accuracy >= target && inTime ? "yes"
                : run.Accuracy < target ? $"no ({target - run.Accuracy:0.0000} short{(inTime ? "" : ", and over time")})"
                : $"no (over time: {run.TrainingSeconds:0} s)";
            report.Info($"Fashion-MNIST test accuracy, `{template}` template through `Trainer.Train` ({Describe(o)})",
                FormattableString.Invariant($"{run.Accuracy:0.0000} ({run.Epochs} epochs, {run.TrainingSeconds:0} s training, {run.WallSeconds:0} s wall)"),
                template == "cnn" ? "not run; dataset README: 0.916 (2 conv + pooling), 0.934 (with BN)" : "not run; dataset README: 0.883 (MLP 256-128-100)",
                template == "cnn" ? $">= 0.93 in <= {options.CnnSecondsLimit:0} s training" : ">= 0.89", met);
        });
    }
}

if (options.Runs("text"))
{
    Section("text", () =>
    {
        Console.WriteLine($"[bench] text: Trainer.Train, text-transformer template (defaults, {options.TextEpochs} epochs) on {options.TextRows} generated demo reviews");
        var (run, _) = EngineRuns.TextTransformer(options, Log);
        report.Info($"text-transformer on {options.TextRows} demo reviews (DemoSeed's generator, seed 11; template defaults: 2 layers, 4 heads, width 64, 128 tokens, Adam 1e-3, batch 64): test accuracy, seconds per epoch",
            FormattableString.Invariant($"{run.Accuracy:0.0000} after {run.Epochs} epochs; {Stats.Summary(run.EpochSeconds, "s")} per epoch"),
            "no peer", "(shown)", "—");
    });
}

string loadAtEnd = LoadAverage();
report.Note($"whole run {total.Elapsed.TotalMinutes:0.0} min" + (options.Quick ? "; --quick: small samples, few epochs, a smoke run" : ""));
string header = $"Load average (1, 5, 15 min) at the start: {loadAtStart}; at the end: {loadAtEnd} ({Environment.ProcessorCount} cores).";
string markdown = header + "\n\n" + report.ToMarkdown();
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
        Log($"[bench] {name} failed: {e}");
        report.Failed(name, $"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
    }
}

static double[] Doubles(JsonElement e, string key) => e.GetProperty(key).EnumerateArray().Select(v => v.GetDouble()).ToArray();

static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);

// Losses computed by the same maths in float32 agree to a few units in the sixth digit.
static string Same(double a, double b) => Math.Abs(a - b) <= 1e-4 * Math.Max(1, Math.Abs(a)) ? "equal" : $"DIFFER by {Math.Abs(a - b):0.000000}";

static string Describe(TrainingOptions o) =>
    FormattableString.Invariant($"{o.Epochs} epochs, {o.Optimizer} lr {o.LearningRate:G3} wd {o.WeightDecay:G3}, {o.Schedule}, batch {o.BatchSize}, dropout {o.Dropout:G3}, label smoothing {o.LabelSmoothing:G3}, validation {o.ValidationFraction:G3}")
    + (o.Template == "mlp" ? $", hidden {string.Join('-', o.HiddenLayers)}, BN" : ", BN");

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

// TorchSharp maps libtorch once a torch call has been made (set_num_threads above).
static string LibtorchPath() =>
    File.ReadLines("/proc/self/maps").Where(l => l.Contains("libtorch_cpu", StringComparison.Ordinal))
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).FirstOrDefault() ?? "not found";

// The libtorch package this build resolved, as its deps.json records it ("libtorch-cpu-linux-x64/2.10.0").
static string LibtorchPackage()
{
    string deps = Path.Combine(AppContext.BaseDirectory, "EngineBench.deps.json");
    if (!File.Exists(deps)) return "?";
    using var doc = JsonDocument.Parse(File.ReadAllText(deps));
    return doc.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name)
        .FirstOrDefault(n => n.StartsWith("libtorch-", StringComparison.Ordinal)) ?? "?";
}
