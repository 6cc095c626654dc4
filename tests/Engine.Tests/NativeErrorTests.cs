namespace ModelOps.Engine.Tests;

public class NativeErrorTests
{
    [Fact]
    public void MatMul_ShapeMismatch_CarriesLibtorchMessage()
    {
        using var scope = Torch.NewDisposeScope();
        var ex = Assert.Throws<ShapeMismatchException>(() => Torch.Zeros(2, 3).MatMul(Torch.Zeros(4, 5)));
        Assert.Contains("2x3", ex.Message);
        Assert.Contains("4x5", ex.Message);
    }

    [Fact]
    public void ElementwiseAndReshape_ShapeErrors_AreShapeMismatch()
    {
        using var scope = Torch.NewDisposeScope();
        Assert.Throws<ShapeMismatchException>(() => Torch.Zeros(3) + Torch.Zeros(4));
        Assert.Throws<ShapeMismatchException>(() => Torch.Zeros(6).Reshape(4, 2));
        Assert.Throws<ShapeMismatchException>(() => Torch.Zeros(6).View(5));
    }

    [Fact]
    public void OutOfRangeIndicesAndDims_AreInvalidArguments()
    {
        using var scope = Torch.NewDisposeScope();
        var t = Torch.Zeros(3, 4);
        Assert.Contains("out of range", Assert.Throws<InvalidArgumentEngineException>(() => t.Select(0, 3)).Message);
        Assert.Throws<InvalidArgumentEngineException>(() => t[-4]);
        Assert.Throws<InvalidArgumentEngineException>(() => t[long.MaxValue]);
        Assert.Throws<InvalidArgumentEngineException>(() => t.Select(2, 0));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Select(long.MinValue, 0));
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.Scalar(1)[0]);
        Assert.Throws<InvalidArgumentEngineException>(() => t.Narrow(1, 3, 2));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Narrow(1, 0, -1));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Narrow(5, 0, 1));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Slice(0, 0, 2, 0));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Slice(9, 0, 2));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Sum(2));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Max(-3));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Transpose(0, 2));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Unsqueeze(4));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Squeeze(2));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Softmax(2));
        Assert.Throws<InvalidArgumentEngineException>(() => t.IndexSelect(0, Torch.Tensor(new long[] { 3 })));
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.Cat([t, t], 2));
        Assert.Throws<InvalidArgumentEngineException>(() => t.Flatten(0, 5));
        Assert.ThrowsAny<EngineException>(() => t.Permute(0, 0));
        Assert.Equal(new long[] { 2, 4 }, t.Slice(0, 1, 100).Shape); // slice bounds clamp, as in Python
    }

    [Fact]
    public void BadArguments_AreInvalidArguments()
    {
        using var scope = Torch.NewDisposeScope();
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.Arange(0, 1, 0));
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.Zeros([2], (ScalarType)42));
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.Zeros([2], device: new Device((DeviceType)7)));
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.Zeros(3).Item<float>());
        Assert.ThrowsAny<EngineException>(() => Torch.Cat(Array.Empty<Tensor>()));
        Assert.ThrowsAny<EngineException>(() => Torch.Zeros(-1));
        Assert.ThrowsAny<EngineException>(() => Torch.Zeros(2).IndexSelect(0, Torch.Zeros(1)));
        Assert.ThrowsAny<EngineException>(() => Torch.Zeros(3).Backward());
    }

    [Fact]
    public void ErrorMessage_DoesNotLeakIntoTheNextFailure()
    {
        using var scope = Torch.NewDisposeScope();
        var first = Assert.Throws<ShapeMismatchException>(() => Torch.Zeros(2, 3).MatMul(Torch.Zeros(4, 5)));
        Assert.Equal(3f, Torch.Ones(3).Sum().Item<float>());
        var second = Assert.Throws<InvalidArgumentEngineException>(() => Torch.Zeros(3).Select(0, 9));
        Assert.DoesNotContain("multiplied", second.Message);
        Assert.NotEqual(first.Message, second.Message);
    }
}
