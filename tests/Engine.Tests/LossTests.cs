using ModelOps.Engine.NN;

namespace ModelOps.Engine.Tests;

/// <summary>Loss values against the textbook formulas evaluated in double precision here.</summary>
public class LossTests
{
    private const double Tolerance = 1e-5;

    // Two samples, three classes; target classes 2 and 0.
    private static readonly float[] Logits = [1f, 2f, 3f, 0.5f, 0f, -1f];
    private static readonly long[] Targets = [2, 0];

    private static double[] LogSoftmaxRow(float[] logits, int row, int classes)
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < classes; c++) max = Math.Max(max, logits[row * classes + c]);
        double sum = 0;
        for (int c = 0; c < classes; c++) sum += Math.Exp(logits[row * classes + c] - max);
        double logZ = max + Math.Log(sum);
        return Enumerable.Range(0, classes).Select(c => logits[row * classes + c] - logZ).ToArray();
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void CrossEntropy_TwoArguments_IsMeanNegativeLogSoftmaxOfTargetClass()
    {
        using var scope = Torch.NewDisposeScope();
        var logits = Torch.Tensor(Logits, 2, 3);
        var targets = Torch.Tensor(Targets, 2);
        // l_i = -log softmax(x_i)[y_i]; mean over i
        double expected = (-LogSoftmaxRow(Logits, 0, 3)[2] - LogSoftmaxRow(Logits, 1, 3)[0]) / 2;
        Assert.Equal(expected, Functional.CrossEntropy(logits, targets).Item<float>(), Tolerance);
    }

    [Fact]
    public void CrossEntropy_SumAndNone_GivePerSampleLosses()
    {
        using var scope = Torch.NewDisposeScope();
        var logits = Torch.Tensor(Logits, 2, 3);
        var targets = Torch.Tensor(Targets, 2);
        double l0 = -LogSoftmaxRow(Logits, 0, 3)[2], l1 = -LogSoftmaxRow(Logits, 1, 3)[0];
        var none = Functional.CrossEntropy(logits, targets, reduction: Reduction.None).ToArray<float>();
        Assert.Equal(2, none.Length);
        Assert.Equal(l0, none[0], Tolerance);
        Assert.Equal(l1, none[1], Tolerance);
        Assert.Equal(l0 + l1, Functional.CrossEntropy(logits, targets, reduction: Reduction.Sum).Item<float>(), Tolerance);
    }

    [Fact]
    public void CrossEntropy_ClassWeights_GiveWeightedMean()
    {
        using var scope = Torch.NewDisposeScope();
        var logits = Torch.Tensor(Logits, 2, 3);
        var targets = Torch.Tensor(Targets, 2);
        float[] w = [0.5f, 1f, 3f];
        var weight = Torch.Tensor(w, 3);
        // mean = sum_i w[y_i] * l_i / sum_i w[y_i]
        double l0 = -LogSoftmaxRow(Logits, 0, 3)[2], l1 = -LogSoftmaxRow(Logits, 1, 3)[0];
        double expected = (w[2] * l0 + w[0] * l1) / (w[2] + w[0]);
        Assert.Equal(expected, Functional.CrossEntropy(logits, targets, weight).Item<float>(), Tolerance);
        double unweighted = (l0 + l1) / 2;
        Assert.True(Math.Abs(expected - unweighted) > 0.01, "the weights must change the value for this test to mean anything");
    }

    [Fact]
    public void CrossEntropy_LabelSmoothing_MixesTargetWithUniform()
    {
        using var scope = Torch.NewDisposeScope();
        var logits = Torch.Tensor(Logits, 2, 3);
        var targets = Torch.Tensor(Targets, 2);
        const double eps = 0.2;
        // l_i = (1 - eps) * -log p_i[y_i] + eps / C * sum_c -log p_i[c]
        double expected = 0;
        for (int i = 0; i < 2; i++)
        {
            var logp = LogSoftmaxRow(Logits, i, 3);
            expected += (1 - eps) * -logp[Targets[i]] + eps / 3 * -logp.Sum();
        }
        expected /= 2;
        Assert.Equal(expected, Functional.CrossEntropy(logits, targets, labelSmoothing: eps).Item<float>(), Tolerance);
    }

    [Fact]
    public void CrossEntropy_RejectsBatchMeanAndSmoothingOutsideUnitInterval()
    {
        using var scope = Torch.NewDisposeScope();
        var logits = Torch.Tensor(Logits, 2, 3);
        var targets = Torch.Tensor(Targets, 2);
        Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(logits, targets, reduction: Reduction.BatchMean));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.CrossEntropy(logits, targets, labelSmoothing: 1.5));
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_MatchesFormula_WithAndWithoutPosWeight()
    {
        using var scope = Torch.NewDisposeScope();
        float[] x = [0.5f, -1.5f, 2f, 0f];
        float[] y = [1f, 0f, 0f, 1f];
        float[] pw = [2f, 3f];
        var logits = Torch.Tensor(x, 2, 2);
        var target = Torch.Tensor(y, 2, 2);
        // l = -[pw_c * y * log s(x) + (1 - y) * log(1 - s(x))], pw broadcast over the last dimension
        double plain = 0, weighted = 0;
        for (int i = 0; i < 4; i++)
        {
            double s = Sigmoid(x[i]);
            plain += -(y[i] * Math.Log(s) + (1 - y[i]) * Math.Log(1 - s));
            weighted += -(pw[i % 2] * y[i] * Math.Log(s) + (1 - y[i]) * Math.Log(1 - s));
        }
        Assert.Equal(plain / 4, Functional.BinaryCrossEntropyWithLogits(logits, target).Item<float>(), Tolerance);
        Assert.Equal(weighted / 4, Functional.BinaryCrossEntropyWithLogits(logits, target, Torch.Tensor(pw, 2)).Item<float>(), Tolerance);
        Assert.Equal(weighted, Functional.BinaryCrossEntropyWithLogits(logits, target, Torch.Tensor(pw, 2), Reduction.Sum).Item<float>(), Tolerance);
    }

    [Fact]
    public void MseAndL1_MatchFormulas_ForEveryReduction()
    {
        using var scope = Torch.NewDisposeScope();
        float[] a = [1f, -2f, 3.5f];
        float[] b = [0.5f, 1f, 3f];
        var input = Torch.Tensor(a, 3);
        var target = Torch.Tensor(b, 3);
        double[] sq = a.Zip(b, (p, q) => (double)(p - q) * (p - q)).ToArray();
        double[] abs = a.Zip(b, (p, q) => (double)Math.Abs(p - q)).ToArray();

        Assert.Equal(sq.Average(), Functional.MseLoss(input, target).Item<float>(), Tolerance);
        Assert.Equal(sq.Sum(), Functional.MseLoss(input, target, Reduction.Sum).Item<float>(), Tolerance);
        Assert.Equal(sq, Functional.MseLoss(input, target, Reduction.None).ToArray<float>().Select(v => (double)v).ToArray(), new Close());
        Assert.Equal(abs.Average(), Functional.L1Loss(input, target).Item<float>(), Tolerance);
        Assert.Equal(abs.Sum(), Functional.L1Loss(input, target, Reduction.Sum).Item<float>(), Tolerance);
        Assert.Throws<ArgumentException>(() => Functional.MseLoss(input, target, Reduction.BatchMean));
    }

    [Fact]
    public void KlDiv_BatchMean_IsPerSampleKl_AndLogTargetAgrees()
    {
        using var scope = Torch.NewDisposeScope();
        double[] p = [0.7, 0.2, 0.1, 0.25, 0.25, 0.5];   // target distributions, two rows
        double[] q = [0.5, 0.3, 0.2, 0.1, 0.6, 0.3];     // model distributions, two rows
        var logQ = Torch.Tensor(q.Select(v => (float)Math.Log(v)).ToArray(), 2, 3);
        var target = Torch.Tensor(p.Select(v => (float)v).ToArray(), 2, 3);
        var logTarget = Torch.Tensor(p.Select(v => (float)Math.Log(v)).ToArray(), 2, 3);
        // KL(p || q) summed over all elements: sum p * (log p - log q); batchmean divides by N = 2, mean by 6
        double sum = p.Zip(q, (pi, qi) => pi * (Math.Log(pi) - Math.Log(qi))).Sum();

        Assert.Equal(sum / 2, Functional.KlDiv(logQ, target).Item<float>(), Tolerance);
        Assert.Equal(sum / 2, Functional.KlDiv(logQ, logTarget, logTarget: true).Item<float>(), Tolerance);
        Assert.Equal(sum, Functional.KlDiv(logQ, target, reduction: Reduction.Sum).Item<float>(), Tolerance);
        Assert.Equal(sum / 6, Functional.KlDiv(logQ, target, reduction: Reduction.Mean).Item<float>(), Tolerance);
    }

    [Fact]
    public void CrossEntropy_Backward_GivesSoftmaxMinusOneHotOverN()
    {
        using var scope = Torch.NewDisposeScope();
        var logits = Torch.Tensor(Logits, 2, 3);
        logits.RequiresGrad = true;
        Functional.CrossEntropy(logits, Torch.Tensor(Targets, 2)).Backward();
        var grad = logits.Grad!.ToArray<float>();
        for (int i = 0; i < 2; i++)
        {
            var logp = LogSoftmaxRow(Logits, i, 3);
            for (int c = 0; c < 3; c++)
                Assert.Equal((Math.Exp(logp[c]) - (c == Targets[i] ? 1 : 0)) / 2, grad[i * 3 + c], Tolerance);
        }
    }

    private sealed class Close : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= Tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
