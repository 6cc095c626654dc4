using ModelOps.Engine.Optim;

namespace ModelOps.Engine.Tests;

public class SchedulerTests
{
    private const double Tolerance = 1e-12;

    private static (Tensor Parameter, SGD Optimizer) Sgd(double lr)
    {
        var p = Torch.Tensor(new float[] { 1f }, 1);
        p.RequiresGrad = true;
        return (p, new SGD([p], lr));
    }

    /// <summary>Steps <paramref name="scheduler"/> through <paramref name="expected"/>, checking both its and the optimizer's rate.</summary>
    private static void AssertSchedule(LRScheduler scheduler, IReadOnlyList<double> expected)
    {
        for (int t = 0; t < expected.Count; t++)
        {
            if (t > 0) scheduler.Step();
            Assert.Equal(t, scheduler.StepCount);
            Assert.True(Math.Abs(expected[t] - scheduler.CurrentLearningRate) <= Tolerance, $"step {t}: expected {expected[t]}, got {scheduler.CurrentLearningRate}");
            Assert.Equal(scheduler.CurrentLearningRate, scheduler.Optimizer.LearningRate);
        }
    }

    /// <summary>Restore(k) on a fresh scheduler gives the rate that stepping k times gave.</summary>
    private static void AssertRestoreMatchesStepping(Func<Optimizer, LRScheduler> create, double baseLr, int steps)
    {
        var (p1, o1) = Sgd(baseLr);
        var stepped = create(o1);
        var rates = new List<double> { stepped.CurrentLearningRate };
        for (int t = 1; t <= steps; t++)
        {
            stepped.Step();
            rates.Add(stepped.CurrentLearningRate);
        }
        for (int k = steps; k >= 0; k--)
        {
            var (p2, o2) = Sgd(baseLr);
            var restored = create(o2);
            restored.Restore(k);
            Assert.Equal(k, restored.StepCount);
            Assert.Equal(rates[k], restored.CurrentLearningRate);
            Assert.Equal(rates[k], o2.LearningRate);
            o2.Dispose();
            p2.Dispose();
        }
        o1.Dispose();
        p1.Dispose();
    }

    private static double HalfCosine(double start, double end, double fraction) => end + (start - end) * (1 + Math.Cos(Math.PI * fraction)) / 2;

    [Fact]
    public void StepLR_DecaysByGammaEveryStepSize()
    {
        var (p, sgd) = Sgd(1.0);
        using (p) using (sgd)
        {
            // lr = base * gamma^floor(t / stepSize)
            AssertSchedule(new StepLR(sgd, stepSize: 3, gamma: 0.1), [1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01]);
        }
        AssertRestoreMatchesStepping(o => new StepLR(o, 3, 0.5), 0.2, 10);
    }

    [Fact]
    public void CosineAnnealingLR_FollowsClosedForm()
    {
        var (p, sgd) = Sgd(1.0);
        using (p) using (sgd)
        {
            // lr = etaMin + (base - etaMin) * (1 + cos(pi * t / tMax)) / 2 with base 1, etaMin 0.1, tMax 4
            double c = Math.Cos(Math.PI / 4);
            AssertSchedule(new CosineAnnealingLR(sgd, tMax: 4, etaMin: 0.1),
                [1, 0.1 + 0.9 * (1 + c) / 2, 0.55, 0.1 + 0.9 * (1 - c) / 2, 0.1]);
        }
        AssertRestoreMatchesStepping(o => new CosineAnnealingLR(o, 7), 0.3, 9);
    }

    [Fact]
    public void LinearWarmupLR_RampsFromStartFactorThenHolds()
    {
        var (p, sgd) = Sgd(0.3);
        using (p) using (sgd)
        {
            // lr = base * (f + (1 - f) * min(t, W) / W), f = 1/3, W = 3: 0.1, 0.3 * 5/9, 0.3 * 7/9, then 0.3
            AssertSchedule(new LinearWarmupLR(sgd, warmupSteps: 3), [0.1, 0.3 * 5 / 9, 0.3 * 7 / 9, 0.3, 0.3, 0.3]);
        }
        AssertRestoreMatchesStepping(o => new LinearWarmupLR(o, 5, 0.1), 0.01, 8);
    }

    [Fact]
    public void WarmupCosineLR_WarmsUpLinearlyThenAnnealsToEtaMin()
    {
        var (p, sgd) = Sgd(1.0);
        using (p) using (sgd)
        {
            // warm-up: base * (t + 1) / W (W = 2); then cosine over totalSteps - W = 4 steps, flat at etaMin after
            double c = Math.Cos(Math.PI / 4);
            AssertSchedule(new WarmupCosineLR(sgd, warmupSteps: 2, totalSteps: 6),
                [0.5, 1, 1, (1 + c) / 2, 0.5, (1 - c) / 2, 0, 0]);
        }
        AssertRestoreMatchesStepping(o => new WarmupCosineLR(o, 3, 12, 1e-4), 0.1, 14);
        var (q, other) = Sgd(1.0);
        using (q) using (other)
            Assert.Throws<ArgumentOutOfRangeException>(() => new WarmupCosineLR(other, warmupSteps: 6, totalSteps: 6));
    }

    [Fact]
    public void OneCycleLR_MatchesPyTorchCosinePhases()
    {
        var (p, sgd) = Sgd(123); // the optimizer's own rate is replaced by the cycle
        using (p) using (sgd)
        {
            // maxLr 1, divFactor 25 -> initial 0.04, finalDivFactor 1e4 -> min 4e-6; total 10, pctStart 0.3:
            // phase 1 ends at 0.3 * 10 - 1 = 2, phase 2 at 9
            double initial = 0.04, min = 4e-6;
            var expected = new List<double> { initial, HalfCosine(initial, 1, 0.5), 1 };
            for (int t = 3; t <= 10; t++) expected.Add(HalfCosine(1, min, (t - 2) / 7.0));
            Assert.Equal(0.52, expected[1], Tolerance);
            Assert.Equal(min, expected[9], Tolerance);
            var scheduler = new OneCycleLR(sgd, maxLr: 1, totalSteps: 10);
            AssertSchedule(scheduler, expected);
            var error = Assert.Throws<InvalidOperationException>(scheduler.Step);
            Assert.Contains("total steps", error.Message);
            Assert.Equal(10, scheduler.StepCount);
            Assert.Equal(expected[10], sgd.LearningRate);
        }
        AssertRestoreMatchesStepping(o => new OneCycleLR(o, 0.5, 20, pctStart: 0.25, divFactor: 10, finalDivFactor: 100), 0.1, 20);
    }

    [Fact]
    public void ScheduledTraining_ResumedFromCheckpoint_IsBitwiseIdentical()
    {
        Torch.ManualSeed(5);
        using var inputs = Torch.Randn(12, 4);
        using var targets = Torch.Randn(12, 1);

        void Train(NN.Module model, IReadOnlyList<Tensor> parameters, Optimizer optimizer, LRScheduler scheduler, int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                using var scope = Torch.NewDisposeScope();
                optimizer.ZeroGrad();
                NN.Functional.MseLoss(model.Forward(inputs), targets).Backward();
                NN.Utils.ClipGradNorm(parameters, 0.5);
                optimizer.Step();
                scheduler.Step();
            }
        }

        using var model = new NN.Sequential(new NN.Linear(4, 6), new NN.ReLU(), new NN.Linear(6, 1));
        var parameters = model.Parameters();
        using var adam = new AdamW(parameters, lr: 0.05);
        var schedule = new WarmupCosineLR(adam, warmupSteps: 4, totalSteps: 20);
        Train(model, parameters, adam, schedule, 8);
        byte[] modelState = model.SaveState(), optimizerState = adam.SaveState();
        long step = schedule.StepCount;
        double rate = schedule.CurrentLearningRate;
        Train(model, parameters, adam, schedule, 8);
        var expected = parameters.Select(p => p.ToArray<float>()).ToArray();

        Torch.ManualSeed(6);
        using var resumed = new NN.Sequential(new NN.Linear(4, 6), new NN.ReLU(), new NN.Linear(6, 1));
        resumed.LoadState(modelState);
        var resumedParameters = resumed.Parameters();
        using var resumedAdam = new AdamW(resumedParameters, lr: 0.05);
        resumedAdam.LoadState(optimizerState);       // sets the scheduled rate of step 8 ...
        var resumedSchedule = new WarmupCosineLR(resumedAdam, warmupSteps: 4, totalSteps: 20);
        Assert.Equal(0.05, resumedSchedule.BaseLearningRate); // ... which must not become the base rate
        resumedSchedule.Restore(step);
        Assert.Equal(rate, resumedAdam.LearningRate);
        Train(resumed, resumedParameters, resumedAdam, resumedSchedule, 8);
        var actual = resumedParameters.Select(p => p.ToArray<float>()).ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i].Select(BitConverter.SingleToInt32Bits), actual[i].Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Restore_RejectsNegativeStepCounts()
    {
        var (p, sgd) = Sgd(1.0);
        using (p) using (sgd)
        {
            var scheduler = new StepLR(sgd, 1, 0.5);
            Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.Restore(-1));
        }
    }
}
