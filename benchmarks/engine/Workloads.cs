using System.Diagnostics;
using ModelOps.Engine;
using ModelOps.Engine.Data;
using ModelOps.Engine.NN;
using ModelOps.Engine.Optim;

namespace ModelOps.Benchmarks.Engine;

/// <summary>Fashion-MNIST's training split as tensors, normalised once (the same constants as peer.py).</summary>
public sealed class FashionMnist : IDisposable
{
    public const double Mean = 0.2860;
    public const double Std = 0.3530;

    /// <summary>[N, 784] float32, normalised.</summary>
    public Tensor Images { get; }
    /// <summary>[N] int64 class ids.</summary>
    public Tensor Labels { get; }
    public int Count { get; }

    private FashionMnist(Tensor images, Tensor labels, int count) => (Images, Labels, Count) = (images, labels, count);

    /// <summary>The first <paramref name="limit"/> samples (all when null).</summary>
    public static FashionMnist LoadTrain(string dir, int? limit = null)
    {
        var images = IdxFile.ReadImages(Path.Combine(dir, "train-images-idx3-ubyte.gz"));
        var labels = IdxFile.ReadLabels(Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
        int n = Math.Min(limit ?? images.Count, images.Count), size = images.Rows * images.Columns;
        byte[] pixels = n == images.Count ? images.Pixels : images.Pixels[..(n * size)];
        using var scope = Torch.NewDisposeScope();
        // The same op sequence as the peer: bytes -> float, / 255, - mean, / std. Each intermediate is
        // disposed as soon as the next exists, as Python's reference counting frees it in the peer's chain;
        // left to the scope, all four float copies (188 MB each) would be alive at once.
        var x = Torch.Tensor(pixels, n, size);
        foreach (var step in new Func<Tensor, Tensor>[] { t => t.To(ScalarType.Float32), t => t.Mul(1.0 / 255), t => t.Add(-Mean), t => t.Mul(1.0 / Std) })
        {
            var next = step(x);
            x.Dispose();
            x = next;
        }
        x.MoveToOuterScope();
        var y = Torch.Tensor(labels[..n], n).To(ScalarType.Int64).MoveToOuterScope();
        return new FashionMnist(x, y, n);
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// The measured workloads, written as a user of the public API would write them. peer.py holds the
/// same workloads in PyTorch; keep the two in step.
/// </summary>
public static class Workloads
{
    public sealed record ModelSpec(string Name, string Title, int BatchSize, bool Image);

    public static readonly ModelSpec[] Models =
    [
        new("mlp", "MLP 784-256-128-10, batch 128", 128, false),
        new("cnn", "CNN 2 x (conv3x3-BN-ReLU-pool) 32/64, FC 128, batch 128", 128, true),
        new("small", "small MLP 784-64-10, batch 32", 32, false),
    ];

    /// <summary>Untimed batches before the first timed epoch (JIT, allocator and thread-pool warm-up on both sides).</summary>
    public const int WarmupBatches = 20;

    public static Sequential Build(string name) => name switch
    {
        "mlp" => new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 128), new ReLU(), new Linear(128, 10)),
        "cnn" => new Sequential(
            new Conv2d(1, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(3136, 128), new ReLU(), new Dropout(0.25), new Linear(128, 10)),
        "small" => new Sequential(new Linear(784, 64), new ReLU(), new Linear(64, 10)),
        _ => throw new ArgumentException($"unknown model '{name}'"),
    };

    /// <summary>
    /// A Fisher-Yates shuffle driven by splitmix64, so that peer.py (which has the same function)
    /// visits the samples in exactly the same order.
    /// </summary>
    public static long[] Permutation(int n, ulong seed)
    {
        var p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        ulong state = seed;
        for (int i = n - 1; i > 0; i--)
        {
            unchecked
            {
                state += 0x9E3779B97F4A7C15UL;
                ulong z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                int j = (int)(z % (ulong)(i + 1));
                (p[i], p[j]) = (p[j], p[i]);
            }
        }
        return p;
    }

    /// <summary>The batch index tensors of one epoch, built before the clock starts (as peer.py does).</summary>
    public static Tensor[] BatchIndices(int n, int batchSize, ulong seed)
    {
        var perm = Permutation(n, seed);
        var batches = new Tensor[(n + batchSize - 1) / batchSize];
        for (int b = 0; b < batches.Length; b++)
        {
            int start = b * batchSize, length = Math.Min(batchSize, n - start);
            batches[b] = Torch.Tensor(perm[start..(start + length)], length);
        }
        return batches;
    }

    public sealed record TrainingRun(double[] SamplesPerSecond, double FirstLoss, double LastLoss);

    /// <summary>Builds the model from the seed, warms up, then times <paramref name="epochs"/> full epochs.</summary>
    public static TrainingRun Train(FashionMnist data, ModelSpec spec, int epochs, long seed, int warmupBatches = WarmupBatches)
    {
        Torch.ManualSeed(seed);
        using var model = Build(spec.Name);
        // Called once: the optimizer keeps the module's parameters, which the caller never disposes.
        using var optimizer = new Adam(model.Parameters(), lr: 1e-3);
        model.Train();
        using var x = spec.Image ? data.Images.Reshape(data.Count, 1, 28, 28) : data.Images.Reshape(data.Count, 784);

        double firstLoss = double.NaN, lastLoss = double.NaN;
        var warmup = BatchIndices(data.Count, spec.BatchSize, (ulong)seed);
        try
        {
            for (int b = 0; b < Math.Min(warmupBatches, warmup.Length); b++)
            {
                double loss = Step(model, optimizer, x, data.Labels, warmup[b]);
                if (b == 0) firstLoss = loss;
            }
        }
        finally
        {
            foreach (var t in warmup) t.Dispose();
        }

        var rates = new double[epochs];
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var batches = BatchIndices(data.Count, spec.BatchSize, (ulong)seed + 1 + (ulong)epoch);
            try
            {
                var clock = Stopwatch.StartNew();
                foreach (var indices in batches) lastLoss = Step(model, optimizer, x, data.Labels, indices);
                rates[epoch] = data.Count / clock.Elapsed.TotalSeconds;
            }
            finally
            {
                foreach (var t in batches) t.Dispose();
            }
            Console.Error.WriteLine($"[engine] {spec.Name} epoch {epoch + 1}/{epochs}: {rates[epoch]:N0} samples/s, loss {lastLoss:0.0000}");
        }
        return new TrainingRun(rates, firstLoss, lastLoss);
    }

    /// <summary>One optimisation step; every tensor it makes is freed by its scope.</summary>
    public static double Step(Module model, Optimizer optimizer, Tensor x, Tensor y, Tensor indices)
    {
        using var scope = Torch.NewDisposeScope();
        var input = x.IndexSelect(0, indices);
        var target = y.IndexSelect(0, indices);
        var logits = model.Forward(input);
        var loss = Functional.CrossEntropy(logits, target);
        loss.Backward();
        optimizer.Step();
        optimizer.ZeroGrad();
        return loss.Item<float>();
    }

    /// <summary>
    /// Nanoseconds per <c>a + b</c> on two 16-element tensors, one figure per timed batch. Each batch runs
    /// inside its own dispose scope; <paramref name="disposeEach"/> frees every result at once (a
    /// <c>using</c>), otherwise the scope frees them all when it closes (its cost is inside the timing).
    /// </summary>
    public static double[] AddOverhead(int calls, int batches, bool disposeEach)
    {
        using var a = Torch.Rand(16);
        using var b = Torch.Rand(16);
        double Batch()
        {
            var clock = Stopwatch.StartNew();
            using (Torch.NewDisposeScope())
            {
                if (disposeEach)
                {
                    for (int i = 0; i < calls; i++)
                    {
                        using var c = a + b;
                    }
                }
                else
                {
                    for (int i = 0; i < calls; i++) _ = a + b;
                }
            }
            return clock.Elapsed.TotalNanoseconds / calls;
        }
        Batch(); // warm-up: tiered JIT reaches the optimised code
        var result = new double[batches];
        for (int i = 0; i < batches; i++) result[i] = Batch();
        return result;
    }

    /// <summary>VmHWM (peak resident set) and VmRSS of this process, in KiB.</summary>
    public static (long PeakKb, long RssKb) Memory()
    {
        long peak = 0, rss = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = ParseKb(line);
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = ParseKb(line);
        }
        return (peak, rss);

        static long ParseKb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
