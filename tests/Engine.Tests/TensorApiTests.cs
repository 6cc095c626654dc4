namespace ModelOps.Engine.Tests;

public class TensorApiTests
{
    [Fact]
    public void Creation_FromArraysAndSpans_KeepsDtypeShapeAndData()
    {
        using var scope = Torch.NewDisposeScope();
        var f = Torch.Tensor(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal(ScalarType.Float32, f.Dtype);
        Assert.Equal(2, f.Dim);
        Assert.Equal(6, f.NumberOfElements);
        Assert.Equal(Device.Cpu, f.Device);

        ReadOnlySpan<double> span = stackalloc double[] { 0.5, -1.5 };
        var d = Torch.Tensor(span, [2, 1]);
        Assert.Equal(ScalarType.Float64, d.Dtype);
        Assert.Equal(new long[] { 2, 1 }, d.Shape);
        Assert.Equal(new[] { 0.5, -1.5 }, d.ToArray<double>());

        ReadOnlySpan<long> longs = stackalloc long[] { 1, 2, 3, 4 };
        Assert.Equal(new long[] { 2, 2 }, Torch.Tensor(longs, 2, 2).Shape);
        Assert.Equal(new long[] { 4 }, Torch.Tensor(longs).Shape);

        var l = Torch.Tensor(new long[] { 7, 8, 9 });
        Assert.Equal(new long[] { 3 }, l.Shape);
        Assert.Equal(ScalarType.Int64, l.Dtype);

        var b = Torch.Tensor(new[] { true, false, true }, [3], Device.Cpu);
        Assert.Equal(ScalarType.Bool, b.Dtype);
        Assert.Equal(new[] { true, false, true }, b.ToArray<bool>());

        var g = Torch.Tensor(new float[] { 1, 2 }, [2], requiresGrad: true);
        Assert.True(g.RequiresGrad);

        Assert.Equal(new[] { 1, 2 }, Torch.Tensor(new[] { 1, 2 }, 2).ToArray<int>());
        Assert.Equal(new byte[] { 3 }, Torch.Tensor(new byte[] { 3 }, 1).ToArray<byte>());
        Assert.Throws<ArgumentException>(() => Torch.Tensor(new float[] { 1, 2, 3 }, 2, 2));
    }

    [Fact]
    public void Factories_ProduceRequestedShapesDtypesAndValues()
    {
        using var scope = Torch.NewDisposeScope();
        Assert.Equal(new double[] { 0, 0, 0, 0 }, Torch.Zeros([2, 2], ScalarType.Float64).ToArray<double>());
        Assert.Equal(ScalarType.Int64, Torch.Ones([3], ScalarType.Int64).Dtype);
        Assert.Equal(new long[] { 1, 1 }, Torch.Ones([2], ScalarType.Int64).ToArray<long>());
        Assert.Equal(new long[] { 2, 3 }, Torch.Zeros(2, 3).Shape);
        var r = Torch.Rand([1000], ScalarType.Float64).ToArray<double>();
        Assert.All(r, v => Assert.InRange(v, 0.0, 1.0));
        Assert.Equal(new long[] { 4, 5 }, Torch.Randn(4, 5).Shape);
        Assert.Equal(ScalarType.Float64, Torch.Randn([2], ScalarType.Float64).Dtype);
        Assert.Equal(new float[] { 0, 0.5f, 1, 1.5f }, Torch.Arange(0, 2, 0.5).ToArray<float>());
        Assert.Equal(new long[] { 5, 3, 1 }, Torch.Arange(5, 0, -2, ScalarType.Int64).ToArray<long>());
        Assert.Equal(new float[] { 7, 7, 7, 7, 7, 7 }, Torch.Full([2, 3], 7).ToArray<float>());
        var scalar = Torch.Scalar(2.5);
        Assert.Equal(0, scalar.Dim);
        Assert.Equal(2.5f, scalar.Item<float>());
        Assert.Equal(2.5, scalar.Item<double>());
    }

    [Fact]
    public void CopyFrom_OverwritesInPlaceWithoutRecordingGradients()
    {
        using var scope = Torch.NewDisposeScope();
        var w = Torch.Zeros([2, 2]);
        w.RequiresGrad = true;
        w.CopyFrom<float>(new float[] { 1, 2, 3, 4 });
        Assert.Equal(new float[] { 1, 2, 3, 4 }, w.ToArray<float>());
        w.CopyFrom(new double[] { 5, 6, 7, 8 }); // converted to the tensor's dtype
        Assert.Equal(new float[] { 5, 6, 7, 8 }, w.ToArray<float>());
        w.CopyFrom(Torch.Full([2, 2], 9, ScalarType.Float64));
        Assert.Equal(new float[] { 9, 9, 9, 9 }, w.ToArray<float>());
        Assert.True(w.RequiresGrad);
        Assert.Null(w.Grad);
        Assert.Throws<InvalidArgumentEngineException>(() => w.CopyFrom<float>(new float[] { 1, 2, 3 }));
    }

    [Fact]
    public void Views_SelectNarrowSlicePermuteAndFriends()
    {
        using var scope = Torch.NewDisposeScope();
        var t = Torch.Arange(0, 24).Reshape(2, 3, 4);
        Assert.Equal(new float[] { 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 }, t[1].ToArray<float>());
        Assert.Equal(new long[] { 2, 4 }, t.Select(1, 2).Shape);
        Assert.Equal(new float[] { 8, 9, 10, 11 }, t.Select(1, -1)[0].ToArray<float>());
        Assert.Equal(new long[] { 2, 2, 4 }, t.Narrow(1, 1, 2).Shape);
        Assert.Equal(new float[] { 1, 3 }, t[0][0].Slice(0, 1, 4, 2).ToArray<float>());
        Assert.Equal(new long[] { 4, 2, 3 }, t.Permute(2, 0, 1).Shape);
        var tr = t.Transpose(0, 2);
        Assert.Equal(new long[] { 4, 3, 2 }, tr.Shape);
        Assert.Throws<ShapeMismatchException>(() => tr.View(24));
        Assert.Equal(24, tr.Contiguous().View(24).NumberOfElements);
        Assert.Equal(new long[] { 2, 1, 3, 4 }, t.Unsqueeze(1).Shape);
        Assert.Equal(new long[] { 2, 3, 4 }, t.Unsqueeze(1).Squeeze(1).Shape);
        Assert.Equal(new long[] { 3 }, Torch.Zeros(1, 3, 1).Squeeze().Shape);
        Assert.Equal(new long[] { 2, 12 }, t.Flatten(1, 2).Shape);
        Assert.Equal(new long[] { 24 }, t.Flatten().Shape);
        Assert.Equal(new float[] { 4, 0 }, t[0].IndexSelect(0, Torch.Tensor(new long[] { 1, 0 })).Select(1, 0).ToArray<float>());

        // A view shares storage: writing through it changes the source.
        t[0][0].CopyFrom<float>(new float[] { -1, -1, -1, -1 });
        Assert.Equal(-1f, t.Sum(2)[0][0].Item<float>() / 4);
    }

    [Fact]
    public void CatAndStack_JoinAlongDimensions()
    {
        using var scope = Torch.NewDisposeScope();
        var a = Torch.Ones(2, 3);
        var b = Torch.Zeros(2, 3);
        Assert.Equal(new long[] { 4, 3 }, Torch.Cat([a, b], 0).Shape);
        Assert.Equal(new long[] { 2, 6 }, Torch.Cat(new List<Tensor> { a, b }, 1).Shape);
        var s = Torch.Stack([a, b], 1);
        Assert.Equal(new long[] { 2, 2, 3 }, s.Shape);
        Assert.Equal(new float[] { 1, 1, 1, 0, 0, 0 }, s[0].ToArray<float>());
        Assert.Throws<ShapeMismatchException>(() => Torch.Cat([a, Torch.Zeros(2, 4)], 0));
        Assert.Throws<ShapeMismatchException>(() => Torch.Stack([a, Torch.Zeros(3, 2)]));
    }

    [Fact]
    public void Elementwise_OperatorsAndFunctionsMatchHandComputedValues()
    {
        using var scope = Torch.NewDisposeScope();
        var x = Torch.Tensor(new float[] { 1, 4, 9 });
        var y = Torch.Tensor(new float[] { 2, 2, 3 });
        Assert.Equal(new float[] { 3, 6, 12 }, (x + y).ToArray<float>());
        Assert.Equal(new float[] { -1, 2, 6 }, (x - y).ToArray<float>());
        Assert.Equal(new float[] { 2, 8, 27 }, (x * y).ToArray<float>());
        Assert.Equal(new float[] { 0.5f, 2, 3 }, (x / y).ToArray<float>());
        Assert.Equal(new float[] { 2, 5, 10 }, (x + 1).ToArray<float>());
        Assert.Equal(new float[] { 2, 5, 10 }, (1 + x).ToArray<float>());
        Assert.Equal(new float[] { 0, 3, 8 }, (x - 1).ToArray<float>());
        Assert.Equal(new float[] { 9, 6, 1 }, (10 - x).ToArray<float>());
        Assert.Equal(new float[] { 3, 12, 27 }, (3 * x).ToArray<float>());
        Assert.Equal(new float[] { 1f / 3, 4f / 3, 3 }, (x / 3).ToArray<float>());
        Assert.Equal(new float[] { 36, 9, 4 }, (36 / x).ToArray<float>());
        Assert.Equal(new float[] { -1, -4, -9 }, (-x).ToArray<float>());
        Assert.Equal(new float[] { 1, 16, 81 }, x.Pow(2).ToArray<float>());
        Assert.Equal(new float[] { 1, 16, 729 }, x.Pow(y).ToArray<float>());
        Assert.Equal(new float[] { 1, 2, 3 }, x.Sqrt().ToArray<float>());
        Assert.Equal(new float[] { 1, 4, 9 }, (-x).Abs().ToArray<float>());
        Assert.Equal(new float[] { 0, 0, 1 }, (x - 9).Exp().Log().Add(1).Clamp(0, 1).ToArray<float>());
        Assert.Equal(new float[] { 0, 1, 2 }, (x - 3).ReLU().Clamp(max: 2).ToArray<float>());
        Assert.Equal(new float[] { 2, 4, 9 }, x.Clamp(min: 2).ToArray<float>());
        Assert.Equal(0.5f, Torch.Zeros(1).Sigmoid().Item<float>());
        Assert.Equal(0f, Torch.Zeros(1).Tanh().Item<float>());
        Assert.Equal(MathF.Tanh(1), Torch.Ones(1).Tanh().Item<float>(), 6);
        Assert.Throws<ArgumentException>(() => x.Clamp());
        // An int tensor divided by a scalar promotes to float, as torch does.
        Assert.Equal(new float[] { 0.5f, 1 }, (Torch.Tensor(new long[] { 1, 2 }) / 2).ToArray<float>());
        Assert.Equal(new float[] { 2, 1 }, (2 / Torch.Tensor(new long[] { 1, 2 })).ToArray<float>());
    }

    [Fact]
    public void Comparisons_ReturnBoolTensors()
    {
        using var scope = Torch.NewDisposeScope();
        var x = Torch.Tensor(new float[] { 1, 2, 3 });
        var y = Torch.Tensor(new float[] { 3, 2, 1 });
        Assert.Equal(ScalarType.Bool, x.Eq(y).Dtype);
        Assert.Equal(new[] { false, true, false }, x.Eq(y).ToArray<bool>());
        Assert.Equal(new[] { true, false, true }, x.Ne(y).ToArray<bool>());
        Assert.Equal(new[] { true, false, false }, x.Lt(y).ToArray<bool>());
        Assert.Equal(new[] { true, true, false }, x.Le(y).ToArray<bool>());
        Assert.Equal(new[] { false, false, true }, x.Gt(y).ToArray<bool>());
        Assert.Equal(new[] { false, true, true }, x.Ge(y).ToArray<bool>());
        Assert.Equal(new[] { false, true, false }, x.Eq(2).ToArray<bool>());
        Assert.Equal(new[] { true, false, true }, x.Ne(2).ToArray<bool>());
        Assert.Equal(new[] { true, false, false }, x.Lt(2).ToArray<bool>());
        Assert.Equal(new[] { true, true, false }, x.Le(2).ToArray<bool>());
        Assert.Equal(new[] { false, false, true }, x.Gt(2).ToArray<bool>());
        Assert.Equal(new[] { false, true, true }, x.Ge(2).ToArray<bool>());
        Assert.Equal(2L, x.Ge(2).Sum().Item<long>());
    }

    [Fact]
    public void Reductions_OverAllAndOneDimension()
    {
        using var scope = Torch.NewDisposeScope();
        var t = Torch.Tensor(new float[] { 1, 5, 3, 4, 2, 6 }, 2, 3);
        Assert.Equal(21f, t.Sum().Item<float>());
        Assert.Equal(new float[] { 9, 12 }, t.Sum(1).ToArray<float>());
        Assert.Equal(new long[] { 1, 3 }, t.Sum(0, keepDim: true).Shape);
        Assert.Equal(3.5f, t.Mean().Item<float>());
        Assert.Equal(new float[] { 3, 4 }, t.Mean(1).ToArray<float>());
        Assert.Equal(new long[] { 2, 1 }, t.Mean(1, keepDim: true).Shape);
        Assert.Equal(6f, t.Max().Item<float>());
        Assert.Equal(1f, t.Min().Item<float>());
        var (maxValues, maxIndices) = t.Max(1);
        Assert.Equal(new float[] { 5, 6 }, maxValues.ToArray<float>());
        Assert.Equal(new long[] { 1, 2 }, maxIndices.ToArray<long>());
        var (minValues, minIndices) = t.Min(0, keepDim: true);
        Assert.Equal(new long[] { 1, 3 }, minValues.Shape);
        Assert.Equal(new float[] { 1, 2, 3 }, minValues.ToArray<float>());
        Assert.Equal(new long[] { 0, 1, 0 }, minIndices.ToArray<long>());
        Assert.Equal(5L, t.ArgMax().Item<long>());
        Assert.Equal(new long[] { 1, 2 }, t.ArgMax(1).ToArray<long>());
        Assert.Equal(new long[] { 2, 1 }, t.ArgMax(1, keepDim: true).Shape);
        var p = t.Softmax(1).Sum(1).ToArray<float>();
        Assert.All(p, v => Assert.Equal(1.0, v, 5));
        var logp = t.LogSoftmax(1).Exp().Sum(1).ToArray<float>();
        Assert.All(logp, v => Assert.Equal(1.0, v, 5));
    }

    [Fact]
    public void RngState_RestoreRepeatsDraws()
    {
        Torch.ManualSeed(42);
        byte[] state = Torch.GetRngState();
        float[] first, second, third;
        using (Torch.NewDisposeScope())
        {
            first = Torch.Rand(8).ToArray<float>();
            Torch.SetRngState(state);
            second = Torch.Rand(8).ToArray<float>();
            third = Torch.Rand(8).ToArray<float>();
        }
        Assert.Equal(first, second);
        Assert.NotEqual(first, third);

        Torch.ManualSeed(42);
        using (Torch.NewDisposeScope()) Assert.Equal(first, Torch.Rand(8).ToArray<float>());
    }

    [Fact]
    public void RngState_MalformedStateIsRejectedWithoutChangingTheGenerator()
    {
        Torch.ManualSeed(7);
        byte[] state = Torch.GetRngState();
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.SetRngState(state[..^1]));
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.SetRngState(new byte[10]));
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.SetRngState([]));
        var longer = new byte[state.Length + 16];
        state.CopyTo(longer, 0);
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.SetRngState(longer));

        float[] expected;
        Torch.ManualSeed(7);
        using (Torch.NewDisposeScope()) expected = Torch.Rand(4).ToArray<float>();
        Torch.ManualSeed(7);
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.SetRngState(state[..^8]));
        using (Torch.NewDisposeScope()) Assert.Equal(expected, Torch.Rand(4).ToArray<float>());
    }

    [Fact]
    public void RngState_GeneratorOfAnAbsentCudaDeviceIsSkipped()
    {
        Torch.ManualSeed(3);
        byte[] state = Torch.GetRngState();
        // Append an entry {device type 1 (CUDA), index 99, 16 bytes}: no machine here has that device.
        var extra = new byte[16 + 16];
        BitConverter.GetBytes(1).CopyTo(extra, 0);
        BitConverter.GetBytes(99).CopyTo(extra, 4);
        BitConverter.GetBytes(16L).CopyTo(extra, 8);
        float[] first;
        using (Torch.NewDisposeScope()) first = Torch.Rand(4).ToArray<float>();
        Torch.SetRngState([.. state, .. extra]);
        using (Torch.NewDisposeScope()) Assert.Equal(first, Torch.Rand(4).ToArray<float>());
    }

    [Fact]
    public void Cuda_QueriesAnswerOnEveryBuild()
    {
        int count = Torch.Cuda.DeviceCount;
        Assert.Equal(count > 0, Torch.Cuda.IsAvailable);
        Assert.Equal(Torch.Cuda.IsAvailable, Torch.CudaIsAvailable());
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.Cuda.DeviceName(count));
        Assert.Throws<InvalidArgumentEngineException>(() => Torch.Cuda.MemoryAllocated(-1));
        if (count > 0)
        {
            Assert.False(string.IsNullOrWhiteSpace(Torch.Cuda.DeviceName(0)));
            long before = Torch.Cuda.MemoryAllocated(0);
            using var t = Torch.Zeros([1024, 1024], device: Device.Cuda(0));
            Assert.True(Torch.Cuda.MemoryAllocated(0) >= before + 4 * 1024 * 1024);
        }
    }

    [Fact]
    public void DisposeScope_NestedScopesMoveAndDetachTensors()
    {
        Tensor inner, moved, detached, outerOwned;
        using (var outer = Torch.NewDisposeScope())
        {
            outerOwned = Torch.Ones(2);
            using (var scope = Torch.NewDisposeScope())
            {
                inner = Torch.Ones(2);
                moved = (inner + 1).MoveToOuterScope();
                detached = (inner * 3).DetachFromDisposeScope();
                var disposedEarly = inner - 1;
                disposedEarly.Dispose();
                Assert.Equal(1, scope.Count);
            }
            Assert.True(inner.IsDisposed);
            Assert.False(moved.IsDisposed);
            Assert.Equal(2, outer.Count);
        }
        Assert.True(moved.IsDisposed);
        Assert.True(outerOwned.IsDisposed);
        Assert.False(detached.IsDisposed);
        Assert.Equal(new float[] { 3, 3 }, detached.ToArray<float>());
        detached.Dispose();
        Assert.Throws<ObjectDisposedException>(() => detached.Sum());
    }
}
