using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ModelOps.Benchmarks.Engine;

/// <summary>Fashion-MNIST's training split as tensors, normalised once (the same constants and op sequence as peer.py).</summary>
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
        var (pixels, n, size) = ReadIdx(Path.Combine(dir, "train-images-idx3-ubyte.gz"), limit);
        var (labels, _, _) = ReadIdx(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), limit);
        // The same op sequence as the peer: bytes -> float, / 255, - mean, / std. Each intermediate is
        // disposed as soon as the next exists, as Python's reference counting frees it in the peer's chain.
        var x = tensor(pixels, [n, size]);
        foreach (var step in new Func<Tensor, Tensor>[] { t => t.to(ScalarType.Float32), t => t.mul(1.0 / 255), t => t.add(-Mean), t => t.mul(1.0 / Std) })
        {
            var next = step(x);
            x.Dispose();
            x = next;
        }
        using var bytes = tensor(labels);
        var y = bytes.to(ScalarType.Int64);
        return new FashionMnist(x, y, n);
    }

    /// <summary>
    /// The first <paramref name="limit"/> items of a gzipped IDX file of unsigned bytes, read from the
    /// stream into one array of their size (as peer.py, which reads the file whole, keeps one copy).
    /// </summary>
    private static (byte[] Data, int Count, int ItemSize) ReadIdx(string path, int? limit)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        Span<byte> magic = stackalloc byte[4];
        gz.ReadExactly(magic);
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08) throw new InvalidDataException($"{path}: not an IDX file of unsigned bytes");
        var dims = new int[magic[3]];
        Span<byte> dim = stackalloc byte[4];
        for (int i = 0; i < dims.Length; i++)
        {
            gz.ReadExactly(dim);
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(dim);
        }
        int count = Math.Min(limit ?? dims[0], dims[0]);
        int itemSize = dims.Skip(1).Aggregate(1, (a, b) => a * b);
        var data = new byte[(long)count * itemSize];
        gz.ReadExactly(data);
        return (data, count, itemSize);
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>MLP in-hidden...-out with ReLU between layers; the input is flattened first (a view for [N, 784]).</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> layers = new();

    public Mlp(params int[] widths) : base(nameof(Mlp))
    {
        for (int i = 0; i + 1 < widths.Length; i++) layers.Add(Linear(widths[i], widths[i + 1]));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var x = input.flatten(1);
        for (int i = 0; i < layers.Count; i++)
        {
            x = layers[i].call(x);
            if (i + 1 < layers.Count) x = functional.relu(x);
        }
        return x;
    }
}

/// <summary>
/// 2 x (conv 3x3 pad 1 without bias, BatchNorm2d, ReLU, max-pool 2) with 32/64 channels, Linear(3136, 128),
/// ReLU, Dropout(0.25), Linear(128, 10): the engine's <c>cnn</c> template with ConvBlocks 2, ConvWidth 32,
/// BatchNorm and Dropout 0.25, layer for layer (so the same seed gives the same initial weights).
/// </summary>
public sealed class Cnn : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1 = Conv2d(1, 32, 3, padding: 1, bias: false);
    private readonly BatchNorm2d bn1 = BatchNorm2d(32);
    private readonly Conv2d conv2 = Conv2d(32, 64, 3, padding: 1, bias: false);
    private readonly BatchNorm2d bn2 = BatchNorm2d(64);
    private readonly Linear fc1 = Linear(3136, 128);
    private readonly Dropout dropout = Dropout(0.25);
    private readonly Linear fc2 = Linear(128, 10);

    public Cnn() : base(nameof(Cnn)) => RegisterComponents();

    public override Tensor forward(Tensor input)
    {
        var x = input.reshape(-1, 1, 28, 28);
        x = functional.max_pool2d(functional.relu(bn1.call(conv1.call(x))), 2);
        x = functional.max_pool2d(functional.relu(bn2.call(conv2.call(x))), 2);
        x = functional.relu(fc1.call(x.flatten(1)));
        return fc2.call(dropout.call(x));
    }
}

/// <summary>
/// The measured bare-TorchSharp workloads, written as a TorchSharp user would write them
/// (dotnet/TorchSharpExamples style). peer.py holds the same workloads in PyTorch; keep the two in step.
/// </summary>
public static class Workloads
{
    public sealed record ModelSpec(string Name, string Title, int BatchSize, double? TargetRatio);

    public static readonly ModelSpec[] Models =
    [
        new("mlp", "MLP 784-256-128-10, batch 128, Adam", 128, 3.0),
        new("cnn", "CNN 2 x (conv-BN-ReLU-pool) 32/64, FC 128, batch 128, Adam", 128, 1.25),
        new("small", "small MLP 784-64-10, batch 32, Adam", 32, 2.5),
    ];

    /// <summary>Untimed batches before the first timed epoch (JIT, allocator and thread-pool warm-up on both sides).</summary>
    public const int WarmupBatches = 20;

    public static Module<Tensor, Tensor> Build(string name) => name switch
    {
        "mlp" => new Mlp(784, 256, 128, 10),
        "cnn" => new Cnn(),
        "small" => new Mlp(784, 64, 10),
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
            batches[b] = tensor(perm[start..(start + length)]);
        }
        return batches;
    }

    /// <summary>
    /// The initial weights of <paramref name="model"/> as <c>name.json</c> (name, shape, offset of each
    /// parameter) and <c>name.bin</c> (float32, little-endian), which peer.py loads into its own model.
    /// </summary>
    public static string WriteWeights(Module<Tensor, Tensor> model, string directory, string name)
    {
        string stem = Path.Combine(directory, name);
        var entries = new List<object>();
        using var bin = File.Create(stem + ".bin");
        long offset = 0;
        foreach (var (parameterName, p) in model.named_parameters())
        {
            var values = p.detach().cpu().data<float>().ToArray();
            bin.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            entries.Add(new { name = parameterName, shape = p.shape, offset });
            offset += values.Length;
        }
        File.WriteAllText(stem + ".json", JsonSerializer.Serialize(entries));
        return stem;
    }

    public sealed record TrainingRun(double[] SamplesPerSecond, double InitialLoss, double FirstLoss, double LastLoss, long Parameters);

    /// <summary>
    /// Builds the model from the seed, writes its initial weights for the peer, warms up, then times
    /// <paramref name="epochs"/> full epochs.
    /// </summary>
    public static TrainingRun Train(FashionMnist data, ModelSpec spec, int epochs, long seed, string? weightsDirectory,
        int warmupBatches = WarmupBatches, Action<string>? log = null)
    {
        manual_seed(seed);
        using var model = Build(spec.Name);
        if (weightsDirectory is not null) WriteWeights(model, weightsDirectory, spec.Name);
        long parameterCount = model.parameters().Sum(p => p.numel());
        using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        var x = data.Images;
        var y = data.Labels;

        double initialLoss = double.NaN, firstLoss = double.NaN, lastLoss = double.NaN;
        var warmup = BatchIndices(data.Count, spec.BatchSize, (ulong)seed);
        try
        {
            initialLoss = EvalLoss(model, x, y, warmup[0]);
            // Both sides seed here, so dropout draws from the same generator state.
            manual_seed(seed + 1);
            model.train();
            for (int b = 0; b < Math.Min(warmupBatches, warmup.Length); b++)
            {
                double loss = Step(model, optimizer, x, y, warmup[b]);
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
                foreach (var indices in batches) lastLoss = Step(model, optimizer, x, y, indices);
                rates[epoch] = data.Count / clock.Elapsed.TotalSeconds;
            }
            finally
            {
                foreach (var t in batches) t.Dispose();
            }
            log?.Invoke($"[torchsharp] {spec.Name} epoch {epoch + 1}/{epochs}: {rates[epoch]:N0} samples/s, loss {lastLoss:0.0000}");
        }
        return new TrainingRun(rates, initialLoss, firstLoss, lastLoss, parameterCount);
    }

    /// <summary>One optimisation step; every tensor it makes is freed by its scope.</summary>
    public static double Step(Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor x, Tensor y, Tensor indices)
    {
        using var scope = NewDisposeScope();
        var input = x.index_select(0, indices);
        var target = y.index_select(0, indices);
        var logits = model.call(input);
        var loss = functional.cross_entropy(logits, target);
        loss.backward();
        optimizer.step();
        optimizer.zero_grad();
        return loss.item<float>();
    }

    /// <summary>The loss of one batch in evaluation mode without gradients: the initial weights' loss (no dropout).</summary>
    public static double EvalLoss(Module<Tensor, Tensor> model, Tensor x, Tensor y, Tensor indices)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var loss = functional.cross_entropy(model.call(x.index_select(0, indices)), y.index_select(0, indices));
        return loss.item<float>();
    }

    /// <summary>
    /// Nanoseconds per <c>a + b</c> on two 16-element tensors, one figure per timed batch. Each batch runs
    /// inside its own dispose scope; <paramref name="disposeEach"/> frees every result at once (a
    /// <c>using</c>), otherwise the scope frees them all when it closes (its cost is inside the timing).
    /// </summary>
    public static double[] AddOverhead(int calls, int batches, bool disposeEach)
    {
        using var a = rand(16);
        using var b = rand(16);
        double Batch()
        {
            var clock = Stopwatch.StartNew();
            using (NewDisposeScope())
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
        var s = Status();
        return (s["VmHWM"], s["VmRSS"]);
    }

    /// <summary>The KiB figures of /proc/self/status (VmHWM, VmRSS, RssAnon, RssFile, ...).</summary>
    public static Dictionary<string, long> Status()
    {
        var values = new Dictionary<string, long>();
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            var parts = line.Split(' ', '\t').Where(p => p.Length > 0).ToArray();
            if (parts.Length == 3 && parts[2] == "kB")
                values[parts[0].TrimEnd(':')] = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        return values;
    }
}
