namespace ModelOps.Engine.Tests;

public class TensorTests
{
    [Fact]
    public void Tensor_FromArray_RoundTripsDataAndShape()
    {
        using var t = Torch.Tensor(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal(new long[] { 2, 3 }, t.Shape);
        Assert.Equal(ScalarType.Float32, t.Dtype);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, t.ToArray<float>());
    }

    [Fact]
    public void Arithmetic_MatMulSoftmaxArgMax_ComputeExpectedValues()
    {
        using var scope = Torch.NewDisposeScope();
        var a = Torch.Tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        var b = Torch.Tensor(new float[] { 1, 0, 0, 1 }, 2, 2);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, a.MatMul(b).ToArray<float>());
        Assert.Equal(new float[] { 2, 2, 3, 5 }, (a + b).ToArray<float>());
        Assert.Equal(10f, a.Sum().Item<float>());
        Assert.Equal(new long[] { 1, 1 }, a.ArgMax(1).ToArray<long>());
        var p = a.Softmax(1).ToArray<float>();
        Assert.Equal(1.0, p[0] + p[1], 5);
    }

    [Fact]
    public void MatMul_IncompatibleShapes_ThrowsShapeMismatchWithLibtorchMessage()
    {
        using var scope = Torch.NewDisposeScope();
        var a = Torch.Zeros([2, 3]);
        var b = Torch.Zeros([4, 5]);
        var ex = Assert.Throws<ShapeMismatchException>(() => a.MatMul(b));
        Assert.Contains("cannot be multiplied", ex.Message);
        Assert.IsAssignableFrom<EngineException>(ex);
    }

    [Fact]
    public void DisposeScope_DisposesTensorsCreatedInside_ExceptMovedOnes()
    {
        Tensor kept;
        Tensor dropped;
        using (var scope = Torch.NewDisposeScope())
        {
            dropped = Torch.Ones([3]);
            kept = (dropped * 2.0).MoveToOuterScope();
            Assert.Equal(1, scope.Count);
        }
        Assert.True(dropped.IsDisposed);
        Assert.False(kept.IsDisposed);
        Assert.Equal(new float[] { 2, 2, 2 }, kept.ToArray<float>());
        kept.Dispose();
    }

    [Fact]
    public void Backward_ComputesGradient()
    {
        using var scope = Torch.NewDisposeScope();
        var x = Torch.Tensor(new float[] { 1, 2, 3 }, 3);
        x.RequiresGrad = true;
        (x * x).Sum().Backward();
        Assert.Equal(new float[] { 2, 4, 6 }, x.Grad!.ToArray<float>());
    }
}
