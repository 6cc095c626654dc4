using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Tests.Tracking;

public sealed class DownsamplingTests
{
    private readonly record struct Point(long Step, double Value);

    private static IReadOnlyList<Point> Lttb(IReadOnlyList<Point> points, int maxPoints) =>
        Downsampling.Lttb(points, maxPoints, p => p.Step, p => p.Value);

    private static List<Point> Series(int n, Func<int, double> value) => Enumerable.Range(0, n).Select(i => new Point(i, value(i))).ToList();

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 10)]
    [InlineData(10, 10)]
    [InlineData(3, 2_000)]
    public void ShortSeries_IsReturnedAsIs(int n, int maxPoints)
    {
        var points = Series(n, i => i * i);
        Assert.Same(points, Lttb(points, maxPoints));
    }

    [Theory]
    [InlineData(11, 10)]
    [InlineData(1_000, 3)]
    [InlineData(100_000, 1_000)]
    [InlineData(12_345, 777)]
    public void LongSeries_KeepsFirstAndLast_AndExactlyMaxPointsInStepOrder(int n, int maxPoints)
    {
        var points = Series(n, i => Math.Sin(i / 50.0) + i % 7 * 0.01);
        var sampled = Lttb(points, maxPoints);
        Assert.Equal(maxPoints, sampled.Count);
        Assert.Equal(points[0], sampled[0]);
        Assert.Equal(points[^1], sampled[^1]);
        for (var i = 1; i < sampled.Count; i++) Assert.True(sampled[i].Step > sampled[i - 1].Step);
    }

    [Theory]
    [InlineData(5_123, 40.0)]
    [InlineData(77_777, -40.0)]
    [InlineData(1, 40.0)]
    [InlineData(99_998, -40.0)]
    public void SingleSpike_Survives(int at, double spike)
    {
        var points = Series(100_000, i => i == at ? spike : Math.Sin(i / 300.0));
        var sampled = Lttb(points, 1_000);
        Assert.Contains(points[at], sampled);
        Assert.Equal(spike, spike > 0 ? sampled.Max(p => p.Value) : sampled.Min(p => p.Value));
    }

    [Fact]
    public void TwoPoints_AreTheFirstAndTheLast()
    {
        var points = Series(50, i => i);
        Assert.Equal([points[0], points[49]], Lttb(points, 2));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(-5)]
    public void FewerThanTwoPoints_IsRejected(int maxPoints) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Lttb(Series(10, i => i), maxPoints));
}
