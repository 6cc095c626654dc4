namespace ModelOps.Engine.Optim;

/// <summary>
/// A learning-rate schedule stepped once per optimizer step (per batch). The rate is a pure function of
/// <see cref="StepCount"/> and the base rate (<see cref="Optim.Optimizer.InitialLearningRate"/>, the rate the
/// optimizer was constructed with), so a checkpoint only needs the step count: <see cref="Restore"/> puts the
/// schedule back where it was, whether it runs before or after the optimizer's LoadState.
/// Construction applies the rate for step 0.
/// </summary>
public abstract class LRScheduler
{
    private protected LRScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        BaseLearningRate = optimizer.InitialLearningRate;
    }

    /// <summary>The optimizer whose learning rate this schedule sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The rate the schedule scales: the optimizer's constructor learning rate.</summary>
    public double BaseLearningRate { get; }

    /// <summary>Number of <see cref="Step"/> calls so far (or the value given to <see cref="Restore"/>).</summary>
    public long StepCount { get; private set; }

    /// <summary>The learning rate for the current step, as applied to the optimizer.</summary>
    public double CurrentLearningRate { get; private set; }

    /// <summary>Advances one optimizer step and applies the new learning rate.</summary>
    public void Step() => MoveTo(checked(StepCount + 1));

    /// <summary>Sets the step count (e.g. from a checkpoint) and applies its learning rate.</summary>
    public void Restore(long stepCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        MoveTo(stepCount);
    }

    /// <summary>The learning rate this schedule gives after <paramref name="step"/> steps.</summary>
    public abstract double LearningRateAt(long step);

    /// <summary>Applies the rate for <see cref="StepCount"/>; subclasses call it at the end of their constructor.</summary>
    private protected void Apply() => MoveTo(StepCount);

    // Computes before committing, so a step the schedule refuses leaves the scheduler as it was.
    private void MoveTo(long step)
    {
        double lr = LearningRateAt(step);
        if (lr != Optimizer.LearningRate) Optimizer.LearningRate = lr;
        StepCount = step;
        CurrentLearningRate = lr;
    }

    private protected static void CheckPositive(long value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive");
    }

    private protected static void CheckNonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite non-negative number");
    }

    /// <summary>Cosine from <paramref name="start"/> (at 0) to <paramref name="end"/> (at 1).</summary>
    private protected static double Cosine(double start, double end, double fraction) =>
        end + (start - end) * (1 + Math.Cos(Math.PI * fraction)) / 2;
}

/// <summary>Multiplies the base rate by <c>gamma</c> every <c>stepSize</c> steps: lr = base * gamma^floor(t / stepSize) (torch StepLR).</summary>
public sealed class StepLR : LRScheduler
{
    private readonly int stepSize;
    private readonly double gamma;

    public StepLR(Optimizer optimizer, int stepSize, double gamma) : base(optimizer)
    {
        CheckPositive(stepSize, nameof(stepSize));
        CheckNonNegative(gamma, nameof(gamma));
        this.stepSize = stepSize;
        this.gamma = gamma;
        Apply();
    }

    public override double LearningRateAt(long step) => BaseLearningRate * Math.Pow(gamma, step / stepSize);
}

/// <summary>
/// Cosine annealing from the base rate to <c>etaMin</c> over <c>tMax</c> steps:
/// lr = etaMin + (base - etaMin) * (1 + cos(pi * t / tMax)) / 2 (torch CosineAnnealingLR's closed form, which keeps
/// oscillating with period 2 * tMax past tMax, as PyTorch's does).
/// </summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    private readonly long tMax;
    private readonly double etaMin;

    public CosineAnnealingLR(Optimizer optimizer, long tMax, double etaMin = 0) : base(optimizer)
    {
        CheckPositive(tMax, nameof(tMax));
        CheckNonNegative(etaMin, nameof(etaMin));
        this.tMax = tMax;
        this.etaMin = etaMin;
        Apply();
    }

    public override double LearningRateAt(long step) => Cosine(BaseLearningRate, etaMin, (double)step / tMax);
}

/// <summary>
/// Linear warm-up from <c>startFactor</c> * base to the base rate over <c>warmupSteps</c> steps, then constant:
/// lr = base * (startFactor + (1 - startFactor) * min(t, warmupSteps) / warmupSteps) (torch LinearLR with end_factor 1).
/// </summary>
public sealed class LinearWarmupLR : LRScheduler
{
    private readonly long warmupSteps;
    private readonly double startFactor;

    public LinearWarmupLR(Optimizer optimizer, long warmupSteps, double startFactor = 1.0 / 3) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        if (!(startFactor > 0 && startFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "startFactor must be in (0, 1]");
        this.warmupSteps = warmupSteps;
        this.startFactor = startFactor;
        Apply();
    }

    public override double LearningRateAt(long step) => warmupSteps == 0 || step >= warmupSteps
        ? BaseLearningRate
        : BaseLearningRate * (startFactor + (1 - startFactor) * step / warmupSteps);
}

/// <summary>
/// Linear warm-up then cosine decay. For t &lt; warmupSteps: lr = base * (t + 1) / warmupSteps (so the first step
/// already trains and step warmupSteps - 1 reaches the base rate); afterwards
/// lr = etaMin + (base - etaMin) * (1 + cos(pi * p)) / 2 with p = min(1, (t - warmupSteps) / (totalSteps - warmupSteps)),
/// reaching etaMin at totalSteps and staying there.
/// </summary>
public sealed class WarmupCosineLR : LRScheduler
{
    private readonly long warmupSteps;
    private readonly long totalSteps;
    private readonly double etaMin;

    public WarmupCosineLR(Optimizer optimizer, long warmupSteps, long totalSteps, double etaMin = 0) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        CheckPositive(totalSteps, nameof(totalSteps));
        if (warmupSteps >= totalSteps)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, $"warmupSteps must be less than totalSteps ({totalSteps})");
        CheckNonNegative(etaMin, nameof(etaMin));
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
        this.etaMin = etaMin;
        Apply();
    }

    public override double LearningRateAt(long step)
    {
        if (step < warmupSteps) return BaseLearningRate * (step + 1) / warmupSteps;
        double progress = Math.Min(1.0, (double)(step - warmupSteps) / (totalSteps - warmupSteps));
        return Cosine(BaseLearningRate, etaMin, progress);
    }
}

/// <summary>
/// The 1cycle policy (Smith and Topin) as torch OneCycleLR with anneal_strategy='cos' and three_phase=False:
/// cosine from maxLr / divFactor up to maxLr over the first pctStart * totalSteps - 1 steps, then cosine down to
/// maxLr / (divFactor * finalDivFactor) at step totalSteps - 1. The optimizer's own rate is ignored (maxLr sets
/// the scale). Only the learning rate is scheduled: unlike PyTorch, momentum / beta1 is not cycled.
/// Stepping past totalSteps throws, as PyTorch does.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    private readonly double maxLr;
    private readonly long totalSteps;
    private readonly double initialLr;
    private readonly double minLr;
    private readonly double warmupEnd;

    public OneCycleLR(Optimizer optimizer, double maxLr, long totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
        : base(optimizer)
    {
        if (!(maxLr > 0) || double.IsInfinity(maxLr)) throw new ArgumentOutOfRangeException(nameof(maxLr), maxLr, "maxLr must be a finite positive number");
        CheckPositive(totalSteps, nameof(totalSteps));
        if (!(pctStart >= 0 && pctStart <= 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pctStart must be in [0, 1]");
        if (!(divFactor > 0)) throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "divFactor must be positive");
        if (!(finalDivFactor > 0)) throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "finalDivFactor must be positive");
        this.maxLr = maxLr;
        this.totalSteps = totalSteps;
        initialLr = maxLr / divFactor;
        minLr = initialLr / finalDivFactor;
        warmupEnd = pctStart * totalSteps - 1;
        Apply();
    }

    public override double LearningRateAt(long step)
    {
        if (step > totalSteps)
            throw new InvalidOperationException($"OneCycleLR stepped {step} times, past its {totalSteps} total steps");
        // PyTorch's phase walk: the first phase ends at pctStart * total - 1, the second at total - 1; a step
        // beyond a phase's end (or the last phase) uses the next one, extrapolating when t = total.
        // A zero-length phase (PyTorch divides by zero there) counts as already finished.
        if (step <= warmupEnd) return Cosine(initialLr, maxLr, warmupEnd > 0 ? step / warmupEnd : 1);
        double decayLength = totalSteps - 1 - warmupEnd;
        return Cosine(maxLr, minLr, decayLength > 0 ? (step - warmupEnd) / decayLength : 1);
    }
}
