using ModelOps.Engine.Models;
using ModelOps.Engine.Training;
using static TorchSharp.torch;

namespace ModelOps.Engine.Tests;

/// <summary>The batch loss the trainer minimises, against PyTorch's definitions evaluated by hand in double precision.</summary>
public class LossTests
{
    private const double Tolerance = 1e-5;

    // Two samples, three classes; target classes 2 and 0.
    private static readonly float[] Logits = [1f, 2f, 3f, 0.5f, 0f, -1f];
    private static readonly long[] Targets = [2, 0];

    private static double[] LogSoftmax(int row)
    {
        var x = Logits.Skip(row * 3).Take(3).Select(v => (double)v).ToArray();
        double logZ = Math.Log(x.Sum(Math.Exp));
        return x.Select(v => v - logZ).ToArray();
    }

    private static double TrainerLoss(float[]? weights, double smoothing)
    {
        using var scope = NewDisposeScope();
        var w = weights is null ? null : tensor(weights);
        return Trainer.Loss(tensor(Logits, [2, 3]), tensor(Targets), regression: false, w, smoothing).item<float>();
    }

    [Fact]
    public void Loss_WithoutOptions_IsTheMeanNegativeLogLikelihoodOfTheTarget()
    {
        double expected = -(LogSoftmax(0)[2] + LogSoftmax(1)[0]) / 2;
        Assert.Equal(expected, TrainerLoss(null, 0), Tolerance);
    }

    [Fact]
    public void Loss_WithLabelSmoothing_MixesTheTargetWithTheUniformDistribution()
    {
        const double eps = 0.1;
        // l_i = (1 - eps) * -log p_i[y_i] + eps / C * sum_c -log p_i[c]
        double expected = Enumerable.Range(0, 2).Average(i => (1 - eps) * -LogSoftmax(i)[Targets[i]] + eps / 3 * -LogSoftmax(i).Sum());
        Assert.Equal(expected, TrainerLoss(null, eps), Tolerance);
        Assert.True(TrainerLoss(null, eps) - TrainerLoss(null, 0) > 0.05, "smoothing must change this loss for the test to mean anything");
    }

    [Fact]
    public void Loss_WithClassWeights_IsTheWeightedMeanAndWeightsTheSmoothingTermsToo()
    {
        float[] w = [0.5f, 1f, 3f];
        double l0 = -LogSoftmax(0)[2], l1 = -LogSoftmax(1)[0];
        // mean = sum_i w[y_i] l_i / sum_i w[y_i]
        Assert.Equal((w[2] * l0 + w[0] * l1) / (w[2] + w[0]), TrainerLoss(w, 0), Tolerance);
        // With smoothing each class term carries its own weight: (1 - eps) w[y] (-log p[y]) + eps / C sum_c w[c] (-log p[c]),
        // still divided by the targets' total weight.
        const double eps = 0.2;
        double Smoothed(int i) => (1 - eps) * w[Targets[i]] * -LogSoftmax(i)[Targets[i]] + eps / 3 * Enumerable.Range(0, 3).Sum(c => w[c] * -LogSoftmax(i)[c]);
        Assert.Equal((Smoothed(0) + Smoothed(1)) / (w[2] + w[0]), TrainerLoss(w, eps), Tolerance);
    }

    [Fact]
    public void Loss_ForRegression_IsTheMeanSquaredErrorOfTheSingleOutput()
    {
        using var scope = NewDisposeScope();
        var output = tensor(new float[] { 1f, -2f, 3.5f }, [3, 1]);
        var target = tensor(new float[] { 0.5f, 1f, 3f });
        double expected = (0.25 + 9 + 0.25) / 3;
        Assert.Equal(expected, Trainer.Loss(output, target, regression: true, null, 0).item<float>(), Tolerance);
    }

    [Fact]
    public void ClassWeights_AreInverseClassFrequencyOfTheTrainingSplit()
    {
        var schema = new ModelSchema("mlp", ModelSchema.Tabular, [new FeatureSchema("x", FeatureKind.Numeric, null)], ["a", "b", "c", "d"], null);
        long[] labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2];
        using var train = new SplitTensors(zeros(labels.Length, 1), tensor(labels));

        using var weights = Trainer.ClassWeights(new TrainingOptions { ClassWeights = true }, schema, train);

        // N / (K * count): 10 / (4 * 6), 10 / (4 * 3), 10 / (4 * 1); a class absent from the split weighs 1.
        Assert.Equal([10f / 24, 10f / 12, 10f / 4, 1f], weights!.data<float>().ToArray());
        Assert.Null(Trainer.ClassWeights(new TrainingOptions { ClassWeights = false }, schema, train));
        Assert.Null(Trainer.ClassWeights(new TrainingOptions { ClassWeights = true }, schema with { Task = "regression" }, train));
    }
}
