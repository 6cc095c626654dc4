using System.Globalization;

namespace ModelOps.Benchmarks.Engine;

/// <summary>
/// What to measure and how often. Every option is an argument (<c>--threads 2</c>) or an environment
/// variable (<c>ENGINE_BENCH_THREADS=2</c>); an argument wins.
/// </summary>
public sealed record BenchOptions
{
    public static readonly string[] Sections = ["overhead", "throughput", "trainer", "memory", "accuracy", "text"];

    /// <summary>libtorch intra-op threads, set explicitly on both sides.</summary>
    public int Threads { get; init; } = 2;
    public bool Quick { get; init; }
    /// <summary>Empty: every section.</summary>
    public string[] Only { get; init; } = [];
    /// <summary>The models of the throughput rows (mlp, cnn, small), the Trainer and the accuracy rows (mlp, cnn).</summary>
    public string[] Models { get; init; } = ["mlp", "cnn", "small"];
    public long Seed { get; init; } = 42;
    public string DataDir { get; init; } = "/usr/share/datasets/fashion-mnist";
    /// <summary>Training samples used, from the start of the file (the Trainer: of its training split); null: all 60,000.</summary>
    public int? Samples { get; init; }
    public string Python { get; init; } = "/usr/bin/python3";

    public int OverheadCalls { get; init; } = 200_000;
    public int OverheadBatches { get; init; } = 7;
    /// <summary>Timed epochs per model and side (throughput and Trainer rows); the median is reported.</summary>
    public int Epochs { get; init; } = 5;

    // Accuracy through the engine's own Trainer and templates.
    public int CnnEpochs { get; init; } = 9;
    public int MlpEpochs { get; init; } = 20;
    public int AccBatchSize { get; init; } = 128;
    public string AccOptimizer { get; init; } = "adamw";
    public double AccLearningRate { get; init; } = 3e-3;
    public double AccWeightDecay { get; init; } = 0.05;
    public string AccSchedule { get; init; } = "onecycle";
    public double AccWarmupEpochs { get; init; }
    public double CnnDropout { get; init; } = 0.25;
    public double MlpDropout { get; init; } = 0.2;
    public double AccLabelSmoothing { get; init; } = 0.1;
    public double AccValidationFraction { get; init; }
    public int[] MlpHidden { get; init; } = [512, 256];
    /// <summary>The CNN row's budget: training seconds (the sum of the Trainer's epoch times).</summary>
    public double CnnSecondsLimit { get; init; } = 300;

    // The text-transformer on the demo reviews.
    public int TextEpochs { get; init; } = 15;
    public int TextRows { get; init; } = 600;

    public string ResultsPath { get; init; } = "benchmarks/engine/results/latest.md";

    public bool Runs(string section) => Only.Length == 0 || Only.Contains(section);

    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var name = (string)e.Key;
            if (name.StartsWith("ENGINE_BENCH_", StringComparison.Ordinal))
                values[name["ENGINE_BENCH_".Length..].Replace('_', '-').ToLowerInvariant()] = (string)e.Value!;
        }
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[i]}'.\n{Usage}");
            var name = args[i][2..];
            if (name is "help" or "h") throw new HelpRequested();
            if (name is "quick") values[name] = "true";
            else if (i + 1 < args.Length) values[name] = args[++i];
            else throw new ArgumentException($"--{name} needs a value.\n{Usage}");
        }

        var o = new BenchOptions();
        int Int(string key, int fallback) => values.Remove(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        double Double(string key, double fallback) => values.Remove(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
        string Text(string key, string fallback) => values.Remove(key, out var v) ? v : fallback;
        bool Bool(string key, bool fallback) => values.Remove(key, out var v) ? v is "1" or "true" or "yes" : fallback;

        bool quick = Bool("quick", false);
        o = o with
        {
            Quick = quick,
            Threads = Int("threads", o.Threads),
            Only = values.Remove("only", out var only) ? only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [],
            Models = values.Remove("models", out var models) ? models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : o.Models,
            Seed = Int("seed", (int)o.Seed),
            DataDir = Text("data", o.DataDir),
            Samples = values.Remove("samples", out var samples) ? int.Parse(samples, CultureInfo.InvariantCulture) : quick ? 6000 : null,
            Python = Text("python", o.Python),
            OverheadCalls = Int("overhead-calls", quick ? 50_000 : o.OverheadCalls),
            OverheadBatches = Int("overhead-batches", quick ? 3 : o.OverheadBatches),
            Epochs = Int("epochs", quick ? 2 : o.Epochs),
            CnnEpochs = Int("cnn-epochs", quick ? 1 : o.CnnEpochs),
            MlpEpochs = Int("mlp-epochs", quick ? 1 : o.MlpEpochs),
            AccBatchSize = Int("acc-batch-size", o.AccBatchSize),
            AccOptimizer = Text("acc-optimizer", o.AccOptimizer),
            AccLearningRate = Double("acc-lr", o.AccLearningRate),
            AccWeightDecay = Double("acc-weight-decay", o.AccWeightDecay),
            AccSchedule = Text("acc-schedule", o.AccSchedule),
            AccWarmupEpochs = Double("acc-warmup-epochs", o.AccWarmupEpochs),
            CnnDropout = Double("cnn-dropout", o.CnnDropout),
            MlpDropout = Double("mlp-dropout", o.MlpDropout),
            AccLabelSmoothing = Double("acc-label-smoothing", o.AccLabelSmoothing),
            AccValidationFraction = Double("acc-validation", o.AccValidationFraction),
            MlpHidden = values.Remove("mlp-hidden", out var hidden) ? hidden.Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture)).ToArray() : o.MlpHidden,
            CnnSecondsLimit = Double("cnn-seconds", o.CnnSecondsLimit),
            TextEpochs = Int("text-epochs", quick ? 2 : o.TextEpochs),
            TextRows = Int("text-rows", o.TextRows),
            ResultsPath = Text("results", o.ResultsPath),
        };
        if (values.Count > 0) throw new ArgumentException($"Unknown option(s): {string.Join(", ", values.Keys)}.\n{Usage}");
        if (o.Only.FirstOrDefault(s => !Sections.Contains(s)) is { } bad)
            throw new ArgumentException($"--only '{bad}' is unknown (expected one or more of {string.Join(", ", Sections)}, comma-separated).");
        if (o.Models.FirstOrDefault(m => m is not ("mlp" or "cnn" or "small")) is { } badModel)
            throw new ArgumentException($"--models '{badModel}' is unknown (expected one or more of mlp, cnn, small, comma-separated).");
        if (o.Samples is < 256) throw new ArgumentException("--samples must be at least 256.");
        if (o.Threads < 1 || o.Epochs < 1 || o.OverheadCalls < 1 || o.OverheadBatches < 1 || o.CnnEpochs < 1 || o.MlpEpochs < 1 || o.TextEpochs < 1)
            throw new ArgumentException("--threads, --epochs, --overhead-calls, --overhead-batches, --cnn-epochs, --mlp-epochs and --text-epochs must be positive.");
        if (o.TextRows < 20) throw new ArgumentException("--text-rows must be at least 20.");
        return o;
    }

    public const string Usage = """
        usage: bash benchmarks/engine/run.sh [options]   (or ENGINE_BENCH_<OPTION>=value; '-' becomes '_')
          --help                  this text
          --quick                 a smoke run: 6,000 samples, 2 timed epochs, 1 accuracy epoch (figures not to quote)
          --only SECTION[,...]    overhead, throughput, trainer, memory, accuracy, text (default: all)
          --models M[,...]        throughput rows: mlp, cnn, small; Trainer and accuracy rows: mlp, cnn (default: all)
          --threads N             libtorch intra-op threads on both sides (2)
          --epochs N              timed epochs per model and side, throughput and Trainer rows (5; median reported)
          --overhead-calls N      calls per timed batch (200000)   --overhead-batches N  timed batches (7)
          --seed N                weights, shuffling and the trainer's seed (42)
          --data DIR              Fashion-MNIST IDX files (/usr/share/datasets/fashion-mnist)
          --samples N             use only the first N training samples everywhere (default: all 60000; --quick: 6000)
          --python PATH           the peer's interpreter (/usr/bin/python3: Debian's, which has torch)
          --results PATH          where the markdown table goes (benchmarks/engine/results/latest.md)
        accuracy (the engine's Trainer and templates on Fashion-MNIST):
          --cnn-epochs N (9)   --mlp-epochs N (20)   --mlp-hidden 512,256   --acc-batch-size N (128)
          --acc-optimizer adamw   --acc-lr 3e-3   --acc-weight-decay 0.05   --acc-schedule onecycle
          --acc-warmup-epochs X (0: one-cycle's 30 %)   --cnn-dropout 0.25   --mlp-dropout 0.2
          --acc-label-smoothing 0.1   --acc-validation 0 (fraction held out for validation)   --cnn-seconds 300
        text-transformer (the engine's Trainer on generated demo reviews):
          --text-epochs N (15)   --text-rows N (600)
        """;
}

/// <summary>--help: print <see cref="BenchOptions.Usage"/> and exit 0.</summary>
public sealed class HelpRequested() : Exception(BenchOptions.Usage);
