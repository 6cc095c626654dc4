using ModelOps.Engine.NN;

namespace ModelOps.Engine.Tests;

public class LayerTests
{
    private static string[] Names(Module m) => m.NamedParameters().Select(p => p.Name).ToArray();

    [Fact]
    public void Linear_ComputesInputTimesWeightTransposedPlusBias()
    {
        using var layer = new Linear(3, 2);
        using var scope = Torch.NewDisposeScope();
        var state = layer.StateDict();
        var input = Torch.Tensor(new float[] { 1, 2, 3, -1, 0, 4 }, 2, 3);
        var w = state["weight"].ToArray<float>();
        var b = state["bias"].ToArray<float>();
        var y = layer.Forward(input).ToArray<float>();
        float[] x = [1, 2, 3, -1, 0, 4];
        for (int n = 0; n < 2; n++)
            for (int o = 0; o < 2; o++)
            {
                float expected = b[o] + Enumerable.Range(0, 3).Sum(i => x[n * 3 + i] * w[o * 3 + i]);
                Assert.Equal(expected, y[n * 2 + o], 4);
            }
    }

    [Fact]
    public void Convolutions_AndPooling_GiveExpectedShapes()
    {
        using var conv1 = new Conv1d(3, 5, 3, padding: 1);
        using var conv2 = new Conv2d(3, 4, 3, stride: 2, padding: 1, bias: false);
        using var max = new MaxPool2d(2);
        using var avg = new AvgPool2d(3, stride: 1, padding: 1);
        using var adaptive = new AdaptiveAvgPool2d(1, 2);
        using var scope = Torch.NewDisposeScope();
        Assert.Equal(new long[] { 2, 5, 7 }, conv1.Forward(Torch.Randn(2, 3, 7)).Shape);
        Assert.Equal(new long[] { 2, 4, 4, 4 }, conv2.Forward(Torch.Randn(2, 3, 8, 8)).Shape);
        Assert.Equal(["weight"], Names(conv2));
        Assert.Equal(new long[] { 1, 2, 3, 3 }, max.Forward(Torch.Randn(1, 2, 6, 7)).Shape);
        Assert.Equal(new long[] { 1, 2, 6, 7 }, avg.Forward(Torch.Randn(1, 2, 6, 7)).Shape);
        Assert.Equal(new long[] { 1, 2, 1, 2 }, adaptive.Forward(Torch.Randn(1, 2, 5, 9)).Shape);
    }

    [Fact]
    public void AdaptiveAvgPool2d_ToOneByOne_IsTheMean()
    {
        using var pool = new AdaptiveAvgPool2d(1);
        using var scope = Torch.NewDisposeScope();
        var input = Torch.Tensor(new float[] { 1, 2, 3, 6 }, 1, 1, 2, 2);
        Assert.Equal(3f, pool.Forward(input).Item<float>(), 5);
    }

    [Fact]
    public void BatchNorm_TrainingUpdatesRunningStatistics_EvalUsesThem()
    {
        using var bn = new BatchNorm2d(2);
        using var scope = Torch.NewDisposeScope();
        var buffers = bn.NamedBuffers().ToDictionary(b => b.Name, b => b.Buffer);
        Assert.Equal(["running_mean", "running_var", "num_batches_tracked"], buffers.Keys);
        Assert.Equal(ScalarType.Int64, buffers["num_batches_tracked"].Dtype);
        bn.Forward(Torch.Randn(4, 2, 3, 3).Add(5.0));
        Assert.Equal(1L, buffers["num_batches_tracked"].Item<long>());
        Assert.All(buffers["running_mean"].ToArray<float>(), m => Assert.InRange(m, 0.3f, 0.7f));
        bn.Eval();
        var before = buffers["running_mean"].ToArray<float>();
        bn.Forward(Torch.Randn(4, 2, 3, 3));
        Assert.Equal(before, buffers["running_mean"].ToArray<float>());
    }

    [Fact]
    public void LayerNorm_NormalizesTrailingDimensions()
    {
        using var norm = new LayerNorm([2, 3]);
        using var single = new LayerNorm(6);
        using var scope = Torch.NewDisposeScope();
        Assert.Equal(["weight", "bias"], Names(norm));
        Assert.Equal(new long[] { 2, 3 }, norm.StateDict()["weight"].Shape);
        var y = norm.Forward(Torch.Randn(4, 2, 3).Mul(3.0).Add(7.0)).ToArray<float>();
        for (int row = 0; row < 4; row++)
        {
            var slice = y.Skip(row * 6).Take(6).ToArray();
            Assert.Equal(0.0, slice.Average(), 4);
            Assert.Equal(1.0, slice.Select(v => (double)v * v).Average(), 2);
        }
        Assert.Equal(new long[] { 4, 6 }, single.Forward(Torch.Randn(4, 6)).Shape);
    }

    [Fact]
    public void Embedding_LooksUpRows_AndPaddingRowIsZeroWithoutGradient()
    {
        using var embedding = new Embedding(5, 3, paddingIdx: 0);
        using var scope = Torch.NewDisposeScope();
        var ids = Torch.Tensor(new long[] { 0, 2, 2, 4 }, 2, 2);
        var output = embedding.Forward(ids);
        Assert.Equal(new long[] { 2, 2, 3 }, output.Shape);
        var values = output.ToArray<float>();
        Assert.All(values.Take(3), v => Assert.Equal(0f, v));
        var weight = embedding.StateDict()["weight"].ToArray<float>();
        Assert.Equal(weight.Skip(6).Take(3), values.Skip(3).Take(3));
        output.Sum().Backward();
        var grad = embedding.Parameters()[0].Grad!.ToArray<float>();
        Assert.All(grad.Take(3), g => Assert.Equal(0f, g));
        Assert.All(grad.Skip(6).Take(3), g => Assert.Equal(2f, g));
    }

    [Fact]
    public void Embedding_WithFloatIds_ThrowsEngineException()
    {
        using var embedding = new Embedding(5, 3);
        using var scope = Torch.NewDisposeScope();
        Assert.ThrowsAny<EngineException>(() => embedding.Forward(Torch.Zeros([2])));
    }

    [Fact]
    public void Lstm_BatchFirstBidirectionalTwoLayers_ShapesAndPyTorchNames()
    {
        using var lstm = new LSTM(4, 6, numLayers: 2, bidirectional: true);
        using var scope = Torch.NewDisposeScope();
        Assert.Equal(
            ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
             "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
             "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
             "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"],
            Names(lstm));
        Assert.Equal(new long[] { 24, 4 }, lstm.StateDict()["weight_ih_l0"].Shape);
        var input = Torch.Randn(3, 5, 4);
        Assert.Equal(new long[] { 3, 5, 12 }, lstm.Forward(input).Shape);
        var (output, h, c) = lstm.ForwardWithState(input);
        Assert.Equal(new long[] { 3, 5, 12 }, output.Shape);
        Assert.Equal(new long[] { 4, 3, 6 }, h.Shape);
        Assert.Equal(new long[] { 4, 3, 6 }, c.Shape);
    }

    [Fact]
    public void Lstm_StateCarriesAcrossChunks_LikeOneLongSequence()
    {
        Torch.ManualSeed(8);
        using var lstm = new LSTM(2, 3);
        using var scope = Torch.NewDisposeScope();
        var sequence = Torch.Randn(1, 6, 2);
        var (whole, _, _) = lstm.ForwardWithState(sequence);
        var values = sequence.ToArray<float>();
        var firstHalf = Torch.Tensor(values[..6], 1, 3, 2);
        var secondHalf = Torch.Tensor(values[6..], 1, 3, 2);
        var (_, h, c) = lstm.ForwardWithState(firstHalf);
        var (tail, _, _) = lstm.ForwardWithState(secondHalf, h, c);
        var expected = whole.ToArray<float>()[9..];
        var actual = tail.ToArray<float>();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
        Assert.Throws<ArgumentException>(() => lstm.ForwardWithState(firstHalf, h));
    }

    [Fact]
    public void Gru_ShapesNamesAndState()
    {
        using var gru = new GRU(4, 5, batchFirst: false);
        using var scope = Torch.NewDisposeScope();
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], Names(gru));
        Assert.Equal(new long[] { 15, 4 }, gru.StateDict()["weight_ih_l0"].Shape);
        var input = Torch.Randn(7, 2, 4); // sequence first
        var (output, h) = gru.ForwardWithState(input, Torch.Zeros([1, 2, 5]));
        Assert.Equal(new long[] { 7, 2, 5 }, output.Shape);
        Assert.Equal(new long[] { 1, 2, 5 }, h.Shape);
        Assert.Equal(output.ToArray<float>()[^10..], h.ToArray<float>());
        Assert.Equal(output.ToArray<float>(), gru.Forward(input).ToArray<float>());
    }

    [Fact]
    public void Activations_MatchTheirFormulas()
    {
        using var relu = new ReLU();
        using var gelu = new GELU();
        using var tanh = new Tanh();
        using var sigmoid = new Sigmoid();
        using var softmax = new Softmax(1);
        using var flatten = new Flatten();
        using var scope = Torch.NewDisposeScope();
        float[] x = [-2f, -0.5f, 0f, 1.5f];
        var input = Torch.Tensor(x, 2, 2);
        Assert.Equal(x.Select(v => Math.Max(v, 0f)), relu.Forward(input).ToArray<float>());
        AssertClose(x.Select(v => (float)Math.Tanh(v)), tanh.Forward(input).ToArray<float>());
        AssertClose(x.Select(v => 1f / (1f + MathF.Exp(-v))), sigmoid.Forward(input).ToArray<float>());
        // GELU(1.5) = 1.5 * Phi(1.5) ~= 1.39978
        Assert.Equal(1.39978f, gelu.Forward(input).ToArray<float>()[3], 4);
        var probabilities = softmax.Forward(input).ToArray<float>();
        Assert.Equal(1f, probabilities[0] + probabilities[1], 5);
        Assert.Equal(1f, probabilities[2] + probabilities[3], 5);
        Assert.Equal(new long[] { 2, 12 }, flatten.Forward(Torch.Zeros([2, 3, 4])).Shape);
        Assert.Empty(relu.Parameters());
    }

    [Fact]
    public void InvalidConstructorArguments_ThrowInvalidArgument()
    {
        Assert.Throws<InvalidArgumentEngineException>(() => new Dropout(1.5));
        Assert.Throws<InvalidArgumentEngineException>(() => new Linear(0, 3));
        Assert.Throws<InvalidArgumentEngineException>(() => new Embedding(4, 2, paddingIdx: 9));
        Assert.Throws<InvalidArgumentEngineException>(() => new LSTM(3, 0));
    }

    private static void AssertClose(IEnumerable<float> expected, float[] actual)
    {
        var e = expected.ToArray();
        Assert.Equal(e.Length, actual.Length);
        for (int i = 0; i < e.Length; i++) Assert.Equal(e[i], actual[i], 5);
    }
}
