using System.Globalization;

namespace ModelOps.Benchmarks.Engine;

/// <summary>
/// What to measure and how often. Every option is an argument (<c>--threads 2</c>) or an environment
/// variable (<c>ENGINE_BENCH_THREADS=2</c>); an argument wins.
/// </summary>
public sealed record BenchOptions
{
    public static readonly string[] Sections = ["overhead", "throughput", "memory", "accuracy"];

    /// <summary>libtorch intra-op threads, set explicitly on both sides.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    public bool Quick { get; init; }
    /// <summary>Empty: every section.</summary>
    public string[] Only { get; init; } = [];
    public long Seed { get; init; } = 42;
    public string DataDir { get; init; } = "/usr/share/datasets/fashion-mnist";
    /// <summary>Training samples used, from the start of the file; null: all 60,000.</summary>
    public int? Samples { get; init; }
    public string Python { get; init; } = "/usr/bin/python3";

    public int OverheadCalls { get; init; } = 200_000;
    public int OverheadBatches { get; init; } = 7;
    /// <summary>Timed epochs per model and side; the median is reported.</summary>
    public int Epochs { get; init; } = 5;

    // Accuracy through the engine's own trainer; the lead tunes these.
    public int CnnEpochs { get; init; } = 8;
    public int MlpEpochs { get; init; } = 15;
    public int AccBatchSize { get; init; } = 128;
    public string AccOptimizer { get; init; } = "adamw";
    public double AccLearningRate { get; init; } = 2e-3;
    public double AccWeightDecay { get; init; } = 0.01;
    public string AccSchedule { get; init; } = "onecycle";
    public double AccWarmupEpochs { get; init; }
    public double? AccDropout { get; init; }
    public double AccLabelSmoothing { get; init; }
    public int[] MlpHidden { get; init; } = [256, 128];

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
            if (name is "help" or "h") throw new ArgumentException(Usage);
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
            Seed = Int("seed", (int)o.Seed),
            DataDir = Text("data", o.DataDir),
            Samples = values.Remove("samples", out var samples) ? int.Parse(samples, CultureInfo.InvariantCulture) : null,
            Python = Text("python", o.Python),
            OverheadCalls = Int("overhead-calls", quick ? 100_000 : o.OverheadCalls),
            OverheadBatches = Int("overhead-batches", quick ? 3 : o.OverheadBatches),
            Epochs = Int("epochs", quick ? 1 : o.Epochs),
            CnnEpochs = Int("cnn-epochs", quick ? 1 : o.CnnEpochs),
            MlpEpochs = Int("mlp-epochs", quick ? 1 : o.MlpEpochs),
            AccBatchSize = Int("acc-batch-size", o.AccBatchSize),
            AccOptimizer = Text("acc-optimizer", o.AccOptimizer),
            AccLearningRate = Double("acc-lr", o.AccLearningRate),
            AccWeightDecay = Double("acc-weight-decay", o.AccWeightDecay),
            AccSchedule = Text("acc-schedule", o.AccSchedule),
            AccWarmupEpochs = Double("acc-warmup-epochs", o.AccWarmupEpochs),
            AccDropout = values.Remove("acc-dropout", out var dropout) ? double.Parse(dropout, CultureInfo.InvariantCulture) : null,
            AccLabelSmoothing = Double("acc-label-smoothing", o.AccLabelSmoothing),
            MlpHidden = values.Remove("mlp-hidden", out var hidden) ? hidden.Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture)).ToArray() : o.MlpHidden,
            ResultsPath = Text("results", o.ResultsPath),
        };
        if (values.Count > 0) throw new ArgumentException($"Unknown option(s): {string.Join(", ", values.Keys)}.\n{Usage}");
        if (o.Only.FirstOrDefault(s => !Sections.Contains(s)) is { } bad)
            throw new ArgumentException($"--only '{bad}' is unknown (expected one or more of {string.Join(", ", Sections)}, comma-separated).");
        if (o.Samples is < 1) throw new ArgumentException("--samples must be positive.");
        if (o.Threads < 1 || o.Epochs < 1 || o.OverheadCalls < 1 || o.OverheadBatches < 1 || o.CnnEpochs < 1 || o.MlpEpochs < 1)
            throw new ArgumentException("--threads, --epochs, --overhead-calls, --overhead-batches, --cnn-epochs and --mlp-epochs must be positive.");
        return o;
    }

    public const string Usage = """
        usage: bash benchmarks/engine/run.sh [options]   (or ENGINE_BENCH_<OPTION>=value; '-' becomes '_')
          --quick                 one epoch everywhere and fewer overhead batches: a smoke run
          --only SECTION[,...]    overhead, throughput, memory, accuracy (default: all)
          --threads N             libtorch threads on both sides (default: all cores)
          --epochs N              timed epochs per model and side (5; median reported)
          --overhead-calls N      calls per timed batch (200000)   --overhead-batches N  timed batches (7)
          --seed N                weights, shuffling and the trainer's seed (42)
          --data DIR              Fashion-MNIST IDX files (/usr/share/datasets/fashion-mnist)
          --samples N             use only the first N training samples everywhere (default: all 60000)
          --python PATH           the peer's interpreter (/usr/bin/python3: Debian's, which has torch)
          --results PATH          where the markdown table goes (benchmarks/engine/results/latest.md)
        accuracy (the engine's Trainer and templates):
          --cnn-epochs N (8)   --mlp-epochs N (15)   --mlp-hidden 256,128   --acc-batch-size N (128)
          --acc-optimizer adamw   --acc-lr 2e-3   --acc-weight-decay 0.01   --acc-schedule onecycle
          --acc-warmup-epochs X (0)   --acc-dropout X (template default)   --acc-label-smoothing X (0)
        """;
}
