using ModelOps.Engine.NN;
using ModelOps.Engine.Optim;

namespace ModelOps.Engine.Tests;

public class OptimizerTests
{
    private const double Tolerance = 1e-6;

    private static Sequential TinyModel() => new(new Linear(3, 8), new ReLU(), new Linear(8, 2));

    private static Optimizer Create(string kind, IEnumerable<Tensor> parameters) => kind switch
    {
        "sgd" => new SGD(parameters, lr: 0.05, momentum: 0.9),
        "adam" => new Adam(parameters, lr: 0.01),
        "adamw" => new AdamW(parameters, lr: 0.01, weightDecay: 0.1),
        _ => throw new ArgumentException(kind),
    };

    private static void Train(Module model, Optimizer optimizer, Tensor inputs, Tensor targets, int steps)
    {
        for (int i = 0; i < steps; i++)
        {
            using var scope = Torch.NewDisposeScope();
            optimizer.ZeroGrad();
            Functional.MseLoss(model.Forward(inputs), targets).Backward();
            optimizer.Step();
        }
    }

    private static float[][] Snapshot(IEnumerable<Tensor> parameters) => parameters.Select(p => p.ToArray<float>()).ToArray();

    private static void AssertBitwiseEqual(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i].Select(BitConverter.SingleToInt32Bits), actual[i].Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>A single parameter vector whose gradient after <see cref="Backward"/> is exactly <paramref name="grad"/>.</summary>
    private static Tensor Parameter(params float[] values)
    {
        var p = Torch.Tensor(values, values.Length);
        p.RequiresGrad = true;
        return p;
    }

    private static void Backward(Tensor parameter, float[] grad)
    {
        using var scope = Torch.NewDisposeScope();
        // d/dp sum(p * g) = g
        (parameter * Torch.Tensor(grad, grad.Length)).Sum().Backward();
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void SaveAndLoadState_ResumesTrainingBitwise(string kind)
    {
        Torch.ManualSeed(11);
        using var inputs = Torch.Randn(16, 3);
        using var targets = Torch.Randn(16, 2);

        using var original = TinyModel();
        var originalParameters = original.Parameters();
        using var optimizer = Create(kind, originalParameters);
        Train(original, optimizer, inputs, targets, 10);
        var midway = Snapshot(originalParameters);
        byte[] modelState = original.SaveState();
        byte[] optimizerState = optimizer.SaveState();
        Train(original, optimizer, inputs, targets, 10);
        var expected = Snapshot(originalParameters);

        Torch.ManualSeed(99); // different initial weights: everything must come from the saved state
        using var resumed = TinyModel();
        resumed.LoadState(modelState);
        var resumedParameters = resumed.Parameters();
        AssertBitwiseEqual(midway, Snapshot(resumedParameters));
        using var resumedOptimizer = Create(kind, resumedParameters);
        resumedOptimizer.LoadState(optimizerState);
        Train(resumed, resumedOptimizer, inputs, targets, 10);
        AssertBitwiseEqual(expected, Snapshot(resumedParameters));

        // Without the optimizer state (fresh moments / momentum) the same 10 steps land elsewhere.
        using var cold = TinyModel();
        cold.LoadState(modelState);
        var coldParameters = cold.Parameters();
        using var coldOptimizer = Create(kind, coldParameters);
        Train(cold, coldOptimizer, inputs, targets, 10);
        Assert.NotEqual(expected[0], Snapshot(coldParameters)[0]);
    }

    [Fact]
    public void LoadState_RestoresTheSavedLearningRate()
    {
        using var p = Parameter(1f, 2f);
        using var a = new Adam([p], lr: 0.01) { LearningRate = 0.0042 };
        using var b = new Adam([p], lr: 0.5);
        b.LoadState(a.SaveState());
        Assert.Equal(0.0042, b.LearningRate);
        Interop.NativeError.Check(Interop.NativeMethods.mo_optimizer_get_lr(b.Handle, out double native));
        Assert.Equal(0.0042, native);
    }

    [Fact]
    public void LoadState_RefusesDamagedOrForeignStateWithInvalidDataException()
    {
        using var p = Parameter(1f, 2f, 3f);
        using var q = Parameter(4f);
        using var adam = new Adam([p, q]);
        Backward(p, [1f, 1f, 1f]);
        Backward(q, [1f]);
        adam.Step();
        byte[] state = adam.SaveState();
        using var target = new Adam([p, q]);

        var truncated = Assert.Throws<InvalidDataException>(() => target.LoadState(state[..(state.Length - 5)]));
        Assert.Contains("truncated", truncated.Message);
        Assert.Throws<InvalidDataException>(() => target.LoadState(state[..10]));

        byte[] flipped = (byte[])state.Clone();
        flipped[flipped.Length / 2] ^= 0x10;
        Assert.Contains("CRC", Assert.Throws<InvalidDataException>(() => target.LoadState(flipped)).Message);

        byte[] foreign = (byte[])state.Clone();
        foreign[0] = (byte)'X';
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => target.LoadState(foreign)).Message);

        using var sgd = new SGD([p, q], lr: 0.1, momentum: 0.9);
        Assert.Contains("Adam", Assert.Throws<InvalidDataException>(() => sgd.LoadState(state)).Message);
        using var adamW = new AdamW([p, q]);
        Assert.Throws<InvalidDataException>(() => adamW.LoadState(state));

        using var fewer = new Adam([p]);
        Assert.Contains("parameter tensors", Assert.Throws<InvalidDataException>(() => fewer.LoadState(state)).Message);

        using var r = Parameter(1f, 2f);
        using var s = Parameter(3f, 4f);
        using var reshaped = new Adam([r, s]);
        Assert.Contains("shapes", Assert.Throws<InvalidDataException>(() => reshaped.LoadState(state)).Message);

        target.LoadState(state); // the intact state still loads
    }

    [Fact]
    public void Sgd_WithMomentumAndWeightDecay_FollowsPyTorchUpdate()
    {
        using var p = Parameter(1f, -2f);
        const double lr = 0.1, mu = 0.9, wd = 0.01;
        using var sgd = new SGD([p], lr, momentum: mu, weightDecay: wd);
        double[] x = [1, -2];
        double[] g = [0.5, 3];
        double[] buf = new double[2];
        for (int step = 0; step < 3; step++)
        {
            sgd.ZeroGrad();
            Backward(p, g.Select(v => (float)v).ToArray());
            sgd.Step();
            for (int i = 0; i < 2; i++)
            {
                double d = g[i] + wd * x[i];                    // d = g + wd * p
                buf[i] = step == 0 ? d : mu * buf[i] + d;        // first step: buf = d; then buf = mu * buf + d
                x[i] -= lr * buf[i];                             // p -= lr * buf
            }
        }
        var actual = p.ToArray<float>();
        Assert.Equal(x[0], actual[0], 1e-5);
        Assert.Equal(x[1], actual[1], 1e-5);
    }

    [Fact]
    public void Sgd_NesterovWithoutMomentum_IsRejected()
    {
        using var p = Parameter(1f);
        var error = Assert.Throws<ArgumentException>(() => new SGD([p], lr: 0.1, nesterov: true));
        Assert.Contains("momentum", error.Message);
        using var ok = new SGD([p], lr: 0.1, momentum: 0.9, nesterov: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamAndAdamW_TwoSteps_FollowTheirFormulas(bool decoupled)
    {
        using var p = Parameter(0.5f, -1f);
        const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05;
        using Optimizer optimizer = decoupled
            ? new AdamW([p], lr, b1, b2, eps, wd)
            : new Adam([p], lr, b1, b2, eps, wd);
        double[] x = [0.5, -1];
        double[][] grads = [[0.2, -0.4], [1.5, 0.3]];
        double[] m = new double[2], v = new double[2];
        for (int t = 1; t <= 2; t++)
        {
            optimizer.ZeroGrad();
            Backward(p, grads[t - 1].Select(g => (float)g).ToArray());
            optimizer.Step();
            for (int i = 0; i < 2; i++)
            {
                double g = grads[t - 1][i];
                if (decoupled) x[i] *= 1 - lr * wd;   // AdamW: p *= 1 - lr * wd
                else g += wd * x[i];                  // Adam: g += wd * p
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(b1, t));
                double vHat = v[i] / (1 - Math.Pow(b2, t));
                x[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        }
        var actual = p.ToArray<float>();
        Assert.Equal(x[0], actual[0], 1e-5);
        Assert.Equal(x[1], actual[1], 1e-5);
    }

    [Fact]
    public void ZeroGrad_ClearsGradients_AndLearningRateChangesTheStep()
    {
        using var p = Parameter(1f);
        using var sgd = new SGD([p], lr: 0.1);
        Backward(p, [2f]);
        using (var grad = p.Grad) Assert.NotNull(grad);
        sgd.ZeroGrad();
        Assert.Null(p.Grad);

        sgd.LearningRate = 0.25;
        Assert.Equal(0.25, sgd.LearningRate);
        Backward(p, [2f]);
        sgd.Step();
        Assert.Equal(1 - 0.25 * 2, p.ToArray<float>()[0], Tolerance);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = -1);
    }

    [Fact]
    public void ClipGradNorm_ScalesToMaxNorm_AndReturnsTheNormBefore()
    {
        using var a = Parameter(0f, 0f);
        using var b = Parameter(0f);
        Backward(a, [3f, 0f]);
        Backward(b, [4f]);
        // joint L2 norm sqrt(3^2 + 4^2) = 5; clip factor maxNorm / (5 + 1e-6)
        double norm = Utils.ClipGradNorm([a, b], maxNorm: 1);
        Assert.Equal(5, norm, Tolerance);
        using (var ga = a.Grad!) Assert.Equal(3 / (5 + 1e-6), ga.ToArray<float>()[0], Tolerance);
        using (var gb = b.Grad!) Assert.Equal(4 / (5 + 1e-6), gb.ToArray<float>()[0], Tolerance);

        // infinity norm: max |g| = 0.8 after the first clip, below maxNorm, so nothing changes
        Assert.Equal(4 / (5 + 1e-6), Utils.ClipGradNorm([a, b], maxNorm: 10, normType: double.PositiveInfinity), Tolerance);
        using (var gb = b.Grad!) Assert.Equal(4 / (5 + 1e-6), gb.ToArray<float>()[0], Tolerance);
    }
}
