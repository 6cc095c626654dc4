using System.Diagnostics;
using System.Runtime.InteropServices;
using ModelOps.Engine.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ModelOps.Engine.Tests;

/// <summary>
/// The engine frees every tensor it makes through <c>using</c> and dispose scopes; this checks that the
/// ownership patterns it relies on (using, scopes, nested scopes with MoveToOuterScope, modules) give
/// native memory back, so a long-running worker does not grow.
/// </summary>
public class LeakTests(ITestOutputHelper output)
{
    private const long TensorBoundBytes = 16L << 20, ModuleBoundBytes = 24L << 20;

    /// <summary>
    /// Tensors through every ownership path leave nothing behind (measured: no growth). Modules do leak a
    /// little: TorchSharp 0.107's Linear and convolutions override Dispose(bool) without calling the base
    /// class's, so the native module behind each stays allocated, some 0.7 KB apiece (measured: 6 to 8 MiB
    /// per 10,000 Linear layers). The engine builds a network per run and per loaded package, so that is
    /// kilobytes per model, not per batch; the bound would catch a leak of the parameters themselves.
    /// </summary>
    [Fact]
    public void ManyTensorsAndModules_ResidentMemoryStaysBounded()
    {
        var clock = Stopwatch.StartNew();
        // Warm-up: libtorch's thread pools and per-thread caches, glibc's arenas and JIT'd code reach their
        // steady size (they grow by some 50 MiB over the first hundred thousand tensors, then stop).
        ChurnTensors(200_000);
        ChurnModules(2_000);
        long start = SettledResidentBytes();
        int tensors = ChurnTensors(200_000);
        long afterTensors = SettledResidentBytes();
        ChurnModules(10_000);
        long afterModules = SettledResidentBytes();
        long tensorGrowth = afterTensors - start, moduleGrowth = afterModules - afterTensors;
        output.WriteLine($"tensors created and freed: {tensors:N0}, modules: 10,000, time {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"VmRSS {start / 1048576.0:F1} MiB, after the tensors {afterTensors / 1048576.0:F1} MiB (growth {tensorGrowth / 1048576.0:F1} MiB, bound {TensorBoundBytes >> 20}), "
            + $"after the modules {afterModules / 1048576.0:F1} MiB (growth {moduleGrowth / 1048576.0:F1} MiB, bound {ModuleBoundBytes >> 20})");
        Assert.True(tensorGrowth < TensorBoundBytes, $"resident memory grew by {tensorGrowth / 1048576.0:F1} MiB over {tensors:N0} tensors");
        Assert.True(moduleGrowth < ModuleBoundBytes, $"resident memory grew by {moduleGrowth / 1048576.0:F1} MiB over 10,000 modules");
    }

    [Theory]
    [InlineData("mlp-embedding.mopkg")]
    [InlineData("cnn-grey.mopkg")]
    [InlineData("text-lstm.mopkg")]
    public void Predictor_ManyPredictions_LeaveNoLiveTensorBehind(string package)
    {
        using var predictor = Predictor.Load(LegacyFixtures.File(package));
        void Predict()
        {
            switch (predictor.Schema.InputKind)
            {
                case "tabular": predictor.PredictTabular([[1.0, -2.0, 5.0, "red"], [null, 0.5, 4.0, "purple"]]); break;
                case "image": predictor.PredictImages([new float[predictor.Schema.PixelCount], Enumerable.Repeat(200f, predictor.Schema.PixelCount).ToArray()]); break;
                default: predictor.PredictText(["a wonderful story", ""]); break;
            }
        }
        Predict(); // the embedding net caches its index tensor on first use
        var statistics = DisposeScopeManager.Statistics;
        long live = statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 500; i++) Predict();
        Assert.Equal(live, statistics.ThreadTotalLiveCount);
    }

    /// <summary>Creates and frees at least <paramref name="target"/> tensors through every ownership path:
    /// using, scopes, nested scopes with moves, and views.</summary>
    private static int ChurnTensors(int target)
    {
        int created = 0;
        var data = new float[64];
        for (int i = 0; i < data.Length; i++) data[i] = i;
        while (created < target)
        {
            using (var a = tensor(data, [8, 8]))
            using (var b = ones(8, 8))
            using (var c = a + b)
            using (var d = c.matmul(b))
                created += 4;

            using (NewDisposeScope())
            {
                var x = randn(16, 4);
                var y = (x * 2 - 1).relu().sum(1);
                var (values, indices) = x.max(1);
                var z = cat([values, y], 0);
                var w = x[3].unsqueeze(0).transpose(0, 1);
                created += 12;
                Tensor kept;
                using (NewDisposeScope())
                {
                    kept = (z + indices.to(ScalarType.Float32).sum()).MoveToOuterDisposeScope();
                    created += 3;
                }
                _ = kept.sum().item<float>() + w.NumberOfElements;
            }
        }
        return created;
    }

    private static void ChurnModules(int count)
    {
        for (int i = 0; i < count; i++)
        {
            using var layer = nn.Linear(4, 4);
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>Resident memory once finalizers have run and the GC and glibc have returned their free memory to the system.</summary>
    private static long SettledResidentBytes()
    {
        for (int i = 0; i < 3; i++)
        {
            // Aggressive also hands the GC's free regions back, so memory left by earlier tests is not counted.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        MallocTrim(0);
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }
}
