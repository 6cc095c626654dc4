using static TorchSharp.torch.optim;
using static TorchSharp.torch.optim.lr_scheduler.impl;

namespace ModelOps.Engine.Training;

/// <summary>
/// PyTorch's one-cycle schedule (cosine annealing, two phases). TorchSharp 0.107's <see cref="OneCycleLR"/>
/// follows it on every step but the one that ends the cycle (step == total_steps): there it tests the
/// parameter group's index where PyTorch tests the phase's, finds no phase and sets the rate and the
/// momentum to 0. The trainer takes that step after a run's last batch, so the last epoch would report a
/// rate of 0 where PyTorch (and the engine before TorchSharp) continue the last phase's annealing.
/// </summary>
internal sealed class OneCycle(Optimizer optimizer, double maxLr, int totalSteps, double pctStart, bool cycleMomentum)
    : OneCycleLR(optimizer, maxLr, total_steps: totalSteps, pct_start: pctStart, cycle_momentum: cycleMomentum,
        base_momentum: BaseMomentum, max_momentum: MaxMomentum, div_factor: DivFactor, final_div_factor: FinalDivFactor)
{
    private const double BaseMomentum = 0.85, MaxMomentum = 0.95, DivFactor = 25, FinalDivFactor = 1e4;

    // Field initializers run before the base constructor, whose first step already calls get_lr.
    private readonly Optimizer schedule = optimizer;
    private readonly int total = totalSteps;
    private readonly double peakStep = pctStart * totalSteps - 1;
    private readonly double max = maxLr, min = maxLr / DivFactor / FinalDivFactor;
    private readonly bool momentum = cycleMomentum;

    protected override IEnumerable<double> get_lr()
    {
        int step = _step_count - 1;
        if (step < total) return base.get_lr();
        double pct = (step - peakStep) / (total - 1 - peakStep);
        if (momentum)
        {
            double m = Anneal(BaseMomentum, MaxMomentum, pct);
            foreach (var group in schedule.ParamGroups)
            {
                if (group is IBetas betas) betas.Betas = (m, betas.Betas.Item2);
                else if (group is IMomentum sgd) sgd.Momentum = m;
            }
        }
        return schedule.ParamGroups.Select(_ => Anneal(max, min, pct)).ToArray();
    }

    private static double Anneal(double start, double end, double pct) => end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1);
}
