using System.Diagnostics;
using Xunit.Abstractions;

namespace ModelOps.Engine.Tests;

public class LeakTests
{
    private const long BoundBytes = 64L * 1024 * 1024;

    private readonly ITestOutputHelper output;

    public LeakTests(ITestOutputHelper output) => this.output = output;

    [Fact]
    public void ManyTensorsAndModules_ResidentMemoryStaysBounded()
    {
        var clock = Stopwatch.StartNew();
        // Warm-up: libtorch's allocator caches, thread pools and JIT'd code reach their steady size.
        Churn(20_000, 1_000);
        long before = SettledResidentBytes();
        int tensors = Churn(200_000, 10_000);
        long after = SettledResidentBytes();
        long growth = after - before;
        output.WriteLine($"tensors created: {tensors:N0}, modules: 10,000, time {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"VmRSS before {before / 1048576.0:F1} MiB, after {after / 1048576.0:F1} MiB, growth {growth / 1048576.0:F1} MiB (bound {BoundBytes / 1048576} MiB)");
        Assert.True(growth < BoundBytes, $"resident memory grew by {growth / 1048576.0:F1} MiB");
    }

    /// <summary>Creates and frees at least <paramref name="tensorTarget"/> tensors and the given number of
    /// modules through every ownership path: using, scopes, nested scopes with moves, and views.</summary>
    private static int Churn(int tensorTarget, int modules)
    {
        int created = 0;
        var data = new float[64];
        for (int i = 0; i < data.Length; i++) data[i] = i;
        while (created < tensorTarget)
        {
            using (var a = Torch.Tensor(data, 8, 8))
            using (var b = Torch.Ones(8, 8))
            using (var c = a + b)
            using (var d = c.MatMul(b))
                created += 4;

            using (var scope = Torch.NewDisposeScope())
            {
                var x = Torch.Randn(16, 4);
                var y = (x * 2 - 1).ReLU().Sum(1);
                var (values, indices) = x.Max(1);
                var z = Torch.Cat([values, y], 0);
                var w = x[3].Unsqueeze(0).Transpose(0, 1);
                created += 12;
                Tensor kept;
                using (var inner = Torch.NewDisposeScope())
                {
                    kept = (z + indices.To(ScalarType.Float32).Sum()).MoveToOuterScope();
                    created += 3;
                }
                _ = kept.Sum().Item<float>() + w.NumberOfElements;
            }
        }
        for (int i = 0; i < modules; i++)
        {
            using var layer = new NN.Linear(4, 4);
        }
        return created;
    }

    private static long SettledResidentBytes()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }
}
