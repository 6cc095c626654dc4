using System.Globalization;

namespace ModelOps.Benchmarks.Tracking;

/// <summary>
/// The scale and the knobs. Every option is an argument (<c>--runs 1000</c>) or an environment
/// variable (<c>TRACKING_BENCH_RUNS=1000</c>); an argument wins. The defaults are the issue's scale.
/// </summary>
public sealed record BenchOptions
{
    public int Runs { get; init; } = 10_000;
    public int Params { get; init; } = 20;
    public int Metrics { get; init; } = 10;
    public int Steps { get; init; } = 100;
    public int LongRuns { get; init; } = 10;
    public int LongSteps { get; init; } = 100_000;
    public int LongMetrics { get; init; } = 1;
    public int Batch { get; init; } = 1000;
    public int Concurrency { get; init; } = 6;
    public int SearchReps { get; init; } = 200;
    public int HistoryReps { get; init; } = 200;
    public int BrowserReps { get; init; } = 5;
    public bool Browser { get; init; } = true;
    public bool Diagnostics { get; init; } = true;
    public int Seed { get; init; } = 20260101;
    /// <summary>Stop feeding the ingest phase after this many seconds and report what was reached.</summary>
    public int IngestLimitSeconds { get; init; } = 420;
    /// <summary>Stop creating runs after this many seconds and log to those that exist.</summary>
    public int CreateLimitSeconds { get; init; } = 240;
    public int WindowSeconds { get; init; } = 10;
    public bool KeepData { get; init; }

    public long ShortPoints => (long)Runs * Metrics * Steps;
    public long LongPoints => (long)LongRuns * LongMetrics * LongSteps;

    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var name = (string)e.Key;
            if (name.StartsWith("TRACKING_BENCH_", StringComparison.Ordinal))
                values[name["TRACKING_BENCH_".Length..].Replace('_', '-')] = (string)e.Value!;
        }
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            var name = args[i][2..];
            if (name is "help" or "h") throw new ArgumentException(Usage);
            if (name.StartsWith("no-", StringComparison.Ordinal)) values[name[3..]] = "false";
            else if (name is "keep-data") values[name] = "true";
            else if (i + 1 < args.Length) values[name] = args[++i];
            else throw new ArgumentException($"--{name} needs a value.\n{Usage}");
        }

        var o = new BenchOptions();
        int Int(string key, int fallback) => values.Remove(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        bool Bool(string key, bool fallback) => values.Remove(key, out var v) ? v is "1" or "true" or "yes" : fallback;
        o = o with
        {
            Runs = Int("runs", o.Runs), Params = Int("params", o.Params), Metrics = Int("metrics", o.Metrics), Steps = Int("steps", o.Steps),
            LongRuns = Int("long-runs", o.LongRuns), LongSteps = Int("long-steps", o.LongSteps), LongMetrics = Int("long-metrics", o.LongMetrics),
            Batch = Int("batch", o.Batch), Concurrency = Int("concurrency", o.Concurrency),
            SearchReps = Int("search-reps", o.SearchReps), HistoryReps = Int("history-reps", o.HistoryReps), BrowserReps = Int("browser-reps", o.BrowserReps),
            Browser = Bool("browser", o.Browser), Diagnostics = Bool("diagnostics", o.Diagnostics), Seed = Int("seed", o.Seed),
            IngestLimitSeconds = Int("ingest-limit", o.IngestLimitSeconds), CreateLimitSeconds = Int("create-limit", o.CreateLimitSeconds), WindowSeconds = Int("window", o.WindowSeconds),
            KeepData = Bool("keep-data", o.KeepData),
        };
        if (values.Count > 0) throw new ArgumentException($"Unknown option(s): {string.Join(", ", values.Keys)}.\n{Usage}");
        if (o.Params is < 1 or > Workload.MaxParams) throw new ArgumentException($"--params is 1..{Workload.MaxParams}.");
        if (o.Metrics is < 1 or > Workload.MaxMetrics || o.LongMetrics is < 1 or > Workload.MaxMetrics)
            throw new ArgumentException($"--metrics and --long-metrics are 1..{Workload.MaxMetrics}.");
        if (o.Batch is < 1 or > 1000 || o.Batch < o.Metrics || o.Batch < o.LongMetrics)
            throw new ArgumentException("--batch is 1..1000 (the API's limit) and at least the number of metrics per step.");
        if (o.Runs < 1 || o.Steps < 1 || o.Concurrency < 1) throw new ArgumentException("--runs, --steps and --concurrency must be positive.");
        return o;
    }

    public const string Usage = """
        usage: bash benchmarks/tracking/run.sh [options]   (or TRACKING_BENCH_<OPTION>=value; '-' becomes '_')
          --runs N           runs in the experiment (10000)        --params N        params per run (20)
          --metrics N        metrics per run (10)                  --steps N         steps per metric (100)
          --long-runs N      long runs (10)                        --long-steps N    steps of a long run (100000)
          --long-metrics N   metrics per long run (1)              --batch N         points per log-batch (1000)
          --concurrency N    requests in flight (6)                --ingest-limit S  stop ingest after S seconds (420)
                                                                   --create-limit S  stop creating runs after S seconds (240)
          --search-reps N    (200)   --history-reps N (200)        --browser-reps N  (5)
          --no-browser       skip the browser phase                --no-diagnostics  skip the bound-finding experiments
          --seed N           data seed                             --keep-data       keep the portal's data folder
        """;
}
