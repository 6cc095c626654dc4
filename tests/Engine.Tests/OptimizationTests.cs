using ModelOps.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ModelOps.Engine.Tests;

/// <summary>
/// The optimizers and learning-rate schedules a run's options choose (Optimization.cs over TorchSharp's
/// optim and lr_scheduler): the curve each schedule draws, and the two things a resume relies on, replaying
/// the schedule and restoring the optimizer's state.
/// </summary>
public class OptimizationTests
{
    private const int Batches = 10;

    private static readonly TrainingOptions Base = new() { LearningRate = 1.0, Epochs = 4, Optimizer = "sgd", Momentum = 0 };

    /// <summary>The rate after 0, 1, ..., <paramref name="steps"/> scheduler steps (one per batch, as the trainer steps).</summary>
    private static double[] Rates(TrainingOptions o, int steps, Func<OptimizerHelper, double>? probe = null)
    {
        using var p = nn.Parameter(zeros(1));
        using var optimizer = Optimization.CreateOptimizer(o, [p]);
        var scheduler = Optimization.CreateScheduler(o, optimizer, Batches);
        probe ??= Optimization.LearningRate;
        var rates = new double[steps + 1];
        rates[0] = probe(optimizer);
        for (int k = 1; k <= steps; k++)
        {
            scheduler?.step();
            rates[k] = probe(optimizer);
        }
        return rates;
    }

    private static double Beta1(OptimizerHelper optimizer) => ((optim.IBetas)optimizer.ParamGroups.First()).Betas.Item1;

    private static double Cosine(double fraction) => (1 + Math.Cos(Math.PI * fraction)) / 2;

    [Fact]
    public void StepSchedule_MultipliesTheRateByGammaEveryStepSizeEpochs()
    {
        var rates = Rates(Base with { Epochs = 6, Schedule = "step", StepSize = 2, Gamma = 0.5 }, 60);
        Assert.Equal([1, 1, 0.5, 0.5, 0.25, 0.125], new[] { 0, 19, 20, 39, 40, 60 }.Select(k => rates[k]));
    }

    [Fact]
    public void CosineSchedule_AnnealsFromTheRateToZeroOverTheRun()
    {
        var rates = Rates(Base with { Schedule = "cosine" }, 40);
        Assert.Equal(1, rates[0]);
        Assert.Equal(Cosine(0.25), rates[10], 1e-12);
        Assert.Equal(0.5, rates[20], 1e-12);
        Assert.Equal(Cosine(0.75), rates[30], 1e-12);
        Assert.InRange(rates[40], -1e-12, 1e-12);
        Assert.All(Enumerable.Range(1, 40), k => Assert.True(rates[k] < rates[k - 1], $"step {k}"));
    }

    [Fact]
    public void WarmupSchedule_RisesLinearlyFromAThirdThenHolds()
    {
        var rates = Rates(Base with { Schedule = "warmup", WarmupEpochs = 1 }, 40);
        Assert.Equal(1.0 / 3, rates[0], 1e-12);
        Assert.Equal(2.0 / 3, rates[5], 1e-12);
        Assert.Equal(1, rates[10], 1e-12);
        Assert.All(rates[10..], r => Assert.Equal(1, r, 1e-12));
        // Without warm-up epochs "warmup" has nothing to do: the rate stays.
        Assert.All(Rates(Base with { Schedule = "warmup" }, 40), r => Assert.Equal(1, r));
    }

    [Fact]
    public void CosineScheduleWithWarmup_WarmsUpThenAnnealsTheRestOfTheRun()
    {
        var rates = Rates(Base with { Schedule = "cosine", WarmupEpochs = 1 }, 40);
        Assert.Equal(1.0 / 3, rates[0], 1e-12);
        Assert.Equal(2.0 / 3, rates[5], 1e-12);
        Assert.Equal(1, rates[10], 1e-12);
        Assert.Equal(Cosine(5 / 30.0), rates[15], 1e-12);
        Assert.Equal(0.5, rates[25], 1e-12);
        Assert.InRange(rates[40], -1e-12, 1e-12);
        Assert.All(Enumerable.Range(1, 10), k => Assert.True(rates[k] > rates[k - 1], $"warm-up step {k}"));
        Assert.All(Enumerable.Range(11, 30), k => Assert.True(rates[k] < rates[k - 1], $"cosine step {k}"));
    }

    [Fact]
    public void OneCycleSchedule_PeaksAtPctStartAndCyclesAdamsMomentumTheOtherWay()
    {
        var options = Base with { Optimizer = "adamw", Schedule = "onecycle" };
        var rates = Rates(options, 40);
        var beta1 = Rates(options, 40, Beta1);
        // PyTorch's OneCycleLR: from max / 25 up to max at step pct_start * total - 1 = 11, then down to max / 25 / 1e4.
        Assert.Equal(1 / 25.0, rates[0], 1e-12);
        Assert.Equal(1, rates[11], 1e-12);
        Assert.Equal(rates.Max(), rates[11]);
        Assert.Equal(1 / 25.0 / 1e4, rates[39], 1e-12);
        // The step after the last batch continues the annealing past its end, as PyTorch does (not 0).
        Assert.Equal(4e-6 + (1 - 4e-6) / 2 * (Math.Cos(Math.PI * (40 - 11) / 28.0) + 1), rates[40], 1e-12);
        Assert.Equal(0.95, beta1[0], 1e-12);
        Assert.Equal(0.85, beta1[11], 1e-12);
        Assert.Equal(0.95, beta1[39], 1e-12);
        Assert.InRange(beta1[40], 0.94, 0.95);

        // Warm-up epochs set the peak: 1 of 4 epochs is pct_start 0.25, so step 9.
        var warm = Rates(options with { WarmupEpochs = 1 }, 40);
        Assert.Equal(1, warm[9], 1e-12);
        Assert.Equal(warm.Max(), warm[9]);
    }

    public static TheoryData<string, string, double, bool> Resumable => new()
    {
        { "adamw", "onecycle", 0, false },
        { "adam", "cosine", 1, false },
        { "adamw", "cosine", 0, false },
        { "sgd", "step", 0, true },
        { "sgd", "warmup", 1.5, false },
        { "sgd", "onecycle", 0, false },
    };

    /// <summary>
    /// The trainer resumes by building a fresh optimizer and schedule, stepping the schedule as many times
    /// as the checkpoint says, then loading the optimizer's state: every later rate, momentum and weight is
    /// then the uninterrupted run's, to the bit.
    /// </summary>
    [Theory]
    [MemberData(nameof(Resumable))]
    public void ScheduleReplayedAndStateLoaded_ContinuesLikeTheUninterruptedRun(string optimizerName, string schedule, double warmup, bool nesterov)
    {
        var o = new TrainingOptions
        {
            Optimizer = optimizerName, Schedule = schedule, WarmupEpochs = warmup, Nesterov = nesterov, Momentum = 0.9,
            LearningRate = 0.05, WeightDecay = 0.01, Epochs = 4, StepSize = 1, Gamma = 0.5,
        };
        using var target = tensor(new float[] { 1f, -2f, 0.5f });
        void Step(Parameter p, OptimizerHelper optimizer, optim.lr_scheduler.LRScheduler? scheduler)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            (p - target).pow(2).mul(tensor(new float[] { 1f, 3f, 0.2f })).sum().backward();
            optimizer.step();
            scheduler?.step();
        }

        using var live = nn.Parameter(zeros(3));
        using var liveOptimizer = Optimization.CreateOptimizer(o, [live]);
        var liveScheduler = Optimization.CreateScheduler(o, liveOptimizer, Batches);
        for (int k = 0; k < 17; k++) Step(live, liveOptimizer, liveScheduler);
        Optimization.SaveState(liveOptimizer, out var state);
        using var saved = live.detach().clone();

        using var resumed = nn.Parameter(saved.clone());
        using var resumedOptimizer = Optimization.CreateOptimizer(o, [resumed]);
        var resumedScheduler = Optimization.CreateScheduler(o, resumedOptimizer, Batches);
        for (int k = 0; k < 17; k++) resumedScheduler?.step();
        Optimization.LoadState(resumedOptimizer, state);

        for (int k = 17; k < 40; k++)
        {
            Assert.Equal(Optimization.LearningRate(liveOptimizer), Optimization.LearningRate(resumedOptimizer));
            Step(live, liveOptimizer, liveScheduler);
            Step(resumed, resumedOptimizer, resumedScheduler);
            Assert.Equal(live.data<float>().ToArray(), resumed.data<float>().ToArray());
        }
        Assert.Equal(Optimization.LearningRate(liveOptimizer), Optimization.LearningRate(resumedOptimizer));
        if (optimizerName != "sgd") Assert.Equal(((optim.IBetas)liveOptimizer.ParamGroups.First()).Betas, ((optim.IBetas)resumedOptimizer.ParamGroups.First()).Betas);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void OptimizerState_RoundTripsExactly_AndIsWhatMakesTheNextStepsTheSame(string optimizerName)
    {
        var o = new TrainingOptions { Optimizer = optimizerName, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 0.01 };
        using var grad = tensor(new float[] { 0.5f, -3f });
        void Steps(Parameter p, OptimizerHelper optimizer, int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                (p * grad).sum().backward();
                optimizer.step();
            }
        }
        using var p = nn.Parameter(tensor(new float[] { 1f, 2f }));
        using var optimizer = Optimization.CreateOptimizer(o, [p]);
        Steps(p, optimizer, 5);
        Optimization.SaveState(optimizer, out var state);
        using var midway = p.detach().clone();
        Steps(p, optimizer, 5);

        using var q = nn.Parameter(midway.clone());
        using var restored = Optimization.CreateOptimizer(o, [q]);
        Optimization.LoadState(restored, state);
        Optimization.SaveState(restored, out var again);
        Assert.Equal(state, again);
        Steps(q, restored, 5);
        Assert.Equal(p.data<float>().ToArray(), q.data<float>().ToArray());

        // Without the saved moments (or momentum buffer) the same five steps land elsewhere.
        using var cold = nn.Parameter(midway.clone());
        using var fresh = Optimization.CreateOptimizer(o, [cold]);
        Steps(cold, fresh, 5);
        Assert.NotEqual(p.data<float>().ToArray(), cold.data<float>().ToArray());
    }

    /// <summary>Two steps on a known gradient against PyTorch's update rules, so each option reaches the optimizer it names.</summary>
    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void CreateOptimizer_AppliesMomentumNesterovAndWeightDecayAsPyTorchDefinesThem(string optimizerName)
    {
        const double lr = 0.1, mu = 0.9, wd = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        var o = new TrainingOptions { Optimizer = optimizerName, LearningRate = lr, Momentum = mu, Nesterov = optimizerName == "sgd", WeightDecay = wd };
        using var p = nn.Parameter(tensor(new float[] { 0.5f, -1f }));
        using var optimizer = Optimization.CreateOptimizer(o, [p]);
        double[] x = [0.5, -1];
        double[][] grads = [[0.2, -0.4], [1.5, 0.3]];
        double[] buffer = new double[2], m = new double[2], v = new double[2];
        for (int t = 1; t <= 2; t++)
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                (p * tensor(grads[t - 1].Select(g => (float)g).ToArray())).sum().backward();
                optimizer.step();
            }
            for (int i = 0; i < 2; i++)
            {
                double g = grads[t - 1][i];
                if (optimizerName == "sgd")
                {
                    g += wd * x[i];                                     // L2 penalty
                    buffer[i] = t == 1 ? g : mu * buffer[i] + g;         // momentum buffer
                    x[i] -= lr * (g + mu * buffer[i]);                   // Nesterov look-ahead
                    continue;
                }
                if (optimizerName == "adamw") x[i] *= 1 - lr * wd;      // decoupled decay
                else g += wd * x[i];                                     // Adam: L2 penalty in the gradient
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                x[i] -= lr * (m[i] / (1 - Math.Pow(b1, t))) / (Math.Sqrt(v[i] / (1 - Math.Pow(b2, t))) + eps);
            }
        }
        var actual = p.data<float>().ToArray();
        Assert.Equal(x[0], actual[0], 1e-5);
        Assert.Equal(x[1], actual[1], 1e-5);
    }

    [Fact]
    public void Validate_NesterovNeedsSgdWithMomentum()
    {
        const string message = "Nesterov needs the sgd optimizer with momentum above 0";
        Assert.Contains(message, new TrainingOptions { Optimizer = "sgd", Momentum = 0, Nesterov = true }.Validate());
        Assert.Contains(message, new TrainingOptions { Optimizer = "adam", Nesterov = true }.Validate());
        Assert.Empty(new TrainingOptions { Optimizer = "sgd", Momentum = 0.9, Nesterov = true }.Validate());
    }
}
