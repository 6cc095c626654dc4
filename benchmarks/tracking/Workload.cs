using System.Buffers;
using System.Text.Json;

namespace ModelOps.Benchmarks.Tracking;

/// <summary>
/// The generated experiment, deterministic from the seed: each run's params come from its own
/// seeded Random, and each point's noise from a hash of (run, key, step), so any batch of any run
/// can be built by any client thread in any order. Bodies are written straight to UTF-8 with
/// Utf8JsonWriter (no reflection, no intermediate objects) so the client stays cheap.
/// </summary>
public sealed class Workload(BenchOptions options)
{
    public const int MaxParams = 20;
    public const int MaxMetrics = 10;
    public static readonly string[] MetricKeys =
        ["loss", "val_loss", "accuracy", "val_accuracy", "learning_rate", "grad_norm", "f1", "precision", "recall", "throughput"];
    private static readonly string[] Optimizers = ["adam", "sgd", "adamw"];
    private const long BaseTimestamp = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>What the metric curves of a run follow from: its params, through a made-up "quality".</summary>
    public readonly record struct RunShape(double FinalAccuracy, double InitialLoss, double Tau);

    public RunShape Shape(int runIndex)
    {
        var r = new Random(unchecked(options.Seed * 1_000_003 + runIndex));
        var lr = LogUniform(r, 1e-5, 1e-1);
        var optimizer = Optimizers[r.Next(Optimizers.Length)];
        var depth = 2 + r.Next(11);
        var lrPenalty = Math.Pow(Math.Log10(lr) - Math.Log10(3e-3), 2);
        var optimizerBonus = optimizer == "sgd" ? -0.06 : optimizer == "adamw" ? 0.02 : 0.0;
        var final = 0.93 - 0.07 * lrPenalty + optimizerBonus + 0.004 * (depth - 7) + 0.04 * (r.NextDouble() - 0.5);
        return new RunShape(Math.Clamp(final, 0.1, 0.995), 2.3 + 0.3 * r.NextDouble(), 0.1 + 0.3 * r.NextDouble());
    }

    /// <summary>The create body: {name, params: {...}, tags}. The first params are drawn in the same order as <see cref="Shape"/>.</summary>
    public void WriteCreateRun(IBufferWriter<byte> buffer, int runIndex, bool longRun)
    {
        var r = new Random(unchecked(options.Seed * 1_000_003 + runIndex));
        using var w = new Utf8JsonWriter(buffer, WriterOptions);
        w.WriteStartObject();
        w.WriteString("name", longRun ? $"long-{runIndex:D2}" : $"run-{runIndex:D5}");
        w.WriteStartObject("params");
        var count = options.Params;
        var i = 0;
        bool More() => i++ < count;
        var lr = LogUniform(r, 1e-5, 1e-1);
        if (More()) w.WriteNumber("lr", Math.Round(lr, 8));
        var optimizer = Optimizers[r.Next(Optimizers.Length)];
        if (More()) w.WriteString("optimizer", optimizer);
        var depth = 2 + r.Next(11);
        if (More()) w.WriteNumber("depth", depth);
        if (More()) w.WriteNumber("batch_size", 16 << r.Next(5));
        if (More()) w.WriteNumber("width", 64 << r.Next(5));
        if (More()) w.WriteNumber("dropout", Math.Round(0.5 * r.NextDouble(), 3));
        if (More()) w.WriteNumber("weight_decay", Math.Round(LogUniform(r, 1e-6, 1e-2), 9));
        if (More()) w.WriteNumber("momentum", Math.Round(0.8 + 0.19 * r.NextDouble(), 3));
        if (More()) w.WriteNumber("warmup_steps", new[] { 0, 100, 500, 1000 }[r.Next(4)]);
        if (More()) w.WriteString("scheduler", new[] { "cosine", "linear", "constant", "step" }[r.Next(4)]);
        if (More()) w.WriteNumber("seed", r.Next(100_000));
        if (More()) w.WriteString("activation", new[] { "relu", "gelu", "silu", "tanh" }[r.Next(4)]);
        if (More()) w.WriteString("init", new[] { "xavier", "kaiming", "orthogonal" }[r.Next(3)]);
        if (More()) w.WriteNumber("label_smoothing", Math.Round(0.2 * r.NextDouble(), 3));
        if (More()) w.WriteString("grad_clip", new[] { "0.5", "1.0", "5.0", "none" }[r.Next(4)]);
        if (More()) w.WriteBoolean("augment", r.Next(2) == 1);
        if (More()) w.WriteString("dataset", new[] { "cifar10", "cifar100", "svhn" }[r.Next(3)]);
        if (More()) w.WriteString("precision", new[] { "fp32", "bf16", "fp16" }[r.Next(3)]);
        if (More()) w.WriteNumber("epochs", new[] { 10, 20, 50 }[r.Next(3)]);
        if (More()) w.WriteString("model", new[] { "resnet", "vit", "mlp", "convnext" }[r.Next(4)]);
        w.WriteEndObject();
        w.WriteStartObject("tags");
        w.WriteString("bench", "tracking");
        w.WriteString("kind", longRun ? "long" : "sweep");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>A log-batch body: steps [firstStep, firstStep + stepCount) of the first <paramref name="metricCount"/> metrics, step-major.</summary>
    public void WriteLogBatch(IBufferWriter<byte> buffer, int runIndex, int firstStep, int stepCount, int metricCount, int totalSteps)
    {
        var shape = Shape(runIndex);
        using var w = new Utf8JsonWriter(buffer, WriterOptions);
        w.WriteStartObject();
        w.WriteStartArray("metrics");
        for (var step = firstStep; step < firstStep + stepCount; step++)
        {
            var t = (step + 1.0) / totalSteps;
            var timestamp = BaseTimestamp + runIndex * 10_000_000L + step * 250L;
            for (var k = 0; k < metricCount; k++)
            {
                w.WriteStartObject();
                w.WriteString("key", MetricKeys[k]);
                w.WriteNumber("value", Value(shape, k, t, Noise(runIndex, k, step), step));
                w.WriteNumber("step", step);
                w.WriteNumber("timestamp", timestamp);
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static double Value(RunShape s, int key, double t, double noise, int step)
    {
        var progress = 1 - Math.Exp(-t / s.Tau);
        var loss = s.InitialLoss * (1 - progress) + (1 - s.FinalAccuracy) * progress * 1.5;
        return key switch
        {
            0 => Math.Max(1e-4, loss + 0.03 * noise + (step % 9973 == 4999 ? 1.5 : 0)), // a rare spike that LTTB must keep
            1 => Math.Max(1e-4, loss * 1.1 + 0.02 * noise),
            2 => Math.Clamp(0.1 + (s.FinalAccuracy + 0.02 - 0.1) * progress + 0.01 * noise, 0, 1),
            3 => Math.Clamp(0.1 + (s.FinalAccuracy - 0.1) * progress + 0.005 * noise, 0, 1),
            4 => 1e-3 * 0.5 * (1 + Math.Cos(Math.PI * t)),
            5 => Math.Abs(5 * (1 - progress) + 0.5 + 0.3 * noise),
            6 => Math.Clamp(0.1 + (s.FinalAccuracy - 0.12) * progress + 0.01 * noise, 0, 1),
            7 => Math.Clamp(0.1 + (s.FinalAccuracy - 0.1) * progress + 0.01 * noise, 0, 1),
            8 => Math.Clamp(0.1 + (s.FinalAccuracy - 0.14) * progress + 0.01 * noise, 0, 1),
            _ => 1200 + 50 * noise,
        };
    }

    /// <summary>A standard-normal-ish value from a hash (sum of four uniforms, rescaled): cheap and order-free.</summary>
    private double Noise(int run, int key, int step)
    {
        var h = Mix((ulong)options.Seed * 0x9E3779B97F4A7C15UL ^ ((ulong)run << 40) ^ ((ulong)key << 32) ^ (uint)step);
        double sum = 0;
        for (var i = 0; i < 4; i++, h >>= 16) sum += (h & 0xFFFF) / 65535.0;
        return (sum - 2) * 1.732;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static double LogUniform(Random r, double lo, double hi) => Math.Exp(Math.Log(lo) + r.NextDouble() * (Math.Log(hi) - Math.Log(lo)));
}
