using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim.lr_scheduler;

namespace ModelOps.Engine.Training;

/// <summary>The run's optimizer and learning-rate schedule, built from TorchSharp's.</summary>
internal static class Optimization
{
    public static OptimizerHelper CreateOptimizer(TrainingOptions o, IEnumerable<Parameter> parameters) => o.Optimizer switch
    {
        Optimizers.Sgd => optim.SGD(parameters, o.LearningRate, momentum: o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Nesterov),
        Optimizers.Adam => optim.Adam(parameters, o.LearningRate, weight_decay: o.WeightDecay),
        Optimizers.AdamW => optim.AdamW(parameters, o.LearningRate, weight_decay: o.WeightDecay),
        _ => throw new ArgumentException($"unknown optimizer '{o.Optimizer}'"),
    };

    public static double LearningRate(OptimizerHelper optimizer) => optimizer.ParamGroups.First().LearningRate;

    /// <summary>
    /// Schedules step once per batch; their lengths are given in epochs and turned into steps here.
    /// Warm-up is linear from a third of the rate (PyTorch's LinearLR default); cosine with warm-up is
    /// that warm-up followed by cosine annealing to zero; one-cycle also cycles the momentum (Adam's
    /// beta1) where the optimizer has one, as PyTorch does.
    /// </summary>
    public static LRScheduler? CreateScheduler(TrainingOptions o, OptimizerHelper optimizer, int batchesPerEpoch)
    {
        int total = (int)Math.Clamp((long)o.Epochs * batchesPerEpoch, 1, int.MaxValue);
        int warmup = (int)Math.Min(total, Math.Round(o.WarmupEpochs * batchesPerEpoch));
        return o.Schedule switch
        {
            Schedules.None => null,
            Schedules.Step => StepLR(optimizer, (int)Math.Min(int.MaxValue, Math.Max(1L, (long)o.StepSize * batchesPerEpoch)), o.Gamma),
            Schedules.Cosine when warmup > 0 && warmup < total => SequentialLR(optimizer,
                [LinearLR(optimizer, start_factor: 1.0 / 3, end_factor: 1, total_iters: warmup), CosineAnnealingLR(optimizer, total - warmup)],
                [warmup]),
            Schedules.Cosine => CosineAnnealingLR(optimizer, total),
            Schedules.Warmup when warmup > 0 => LinearLR(optimizer, start_factor: 1.0 / 3, end_factor: 1, total_iters: warmup),
            Schedules.Warmup => null,
            Schedules.OneCycle => new OneCycle(optimizer, o.LearningRate, total,
                pctStart: warmup > 0 ? Math.Clamp(warmup / (double)total, 0.01, 0.99) : 0.3,
                cycleMomentum: o.Optimizer != Optimizers.Sgd || o.Momentum > 0),
            _ => throw new ArgumentException($"unknown schedule '{o.Schedule}'"),
        };
    }

    public static void SaveState(OptimizerHelper optimizer, out byte[] state)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        state = buffer.ToArray();
    }

    public static void LoadState(OptimizerHelper optimizer, byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state, writable: false));
        optimizer.load_state_dict(reader);
    }
}
