using System.Diagnostics;
using System.Text.Json;
using ModelOps.Engine.Data;
using ModelOps.Engine.Models;
using ModelOps.Engine.NN;
using ModelOps.Engine.Optim;

namespace ModelOps.Engine.Training;

public static class Trainer
{
    public const string ModelPackageFileName = "model" + ModelPackage.FileExtension;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Trains per <paramref name="options"/>, writing a full checkpoint per epoch and the final model package
    /// into <paramref name="workDir"/>. With <paramref name="resumeCheckpointPath"/>, training continues after
    /// that checkpoint's epoch with the same split, seed, optimizer state, schedule and random state, so the
    /// loss curve is the one an uninterrupted run would have had. Cancellation is checked between batches.
    /// </summary>
    public static TrainingResult Train(TrainingOptions options, DatasetFiles data, string workDir,
        ITrainingObserver observer, string? resumeCheckpointPath, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(observer);
        options.EnsureValid();
        Directory.CreateDirectory(workDir);
        var clock = Stopwatch.StartNew();
        var device = Device.Parse(options.Device);
        (Checkpoint Checkpoint, Checkpoint.State State)? resume = resumeCheckpointPath is null ? null : Checkpoint.Read(resumeCheckpointPath);

        using var dataset = DatasetLoader.Prepare(data, options);
        if (resume is { } r) EnsureCompatible(r.Checkpoint, options, dataset.Schema);
        if (dataset.Train.Count == 0) throw new DatasetFormatException("the training split is empty");
        dataset.MoveTo(device);
        ct.ThrowIfCancellationRequested();

        Torch.ManualSeed(options.Seed);
        using var model = ModelTemplates.Build(dataset.Schema);
        model.To(device);
        var parameters = model.Parameters();
        using var optimizer = CreateOptimizer(options, parameters);
        int batches = BatchesPerEpoch(dataset.Train.Count, options.BatchSize);
        var scheduler = CreateScheduler(options, optimizer, batches);
        using var classWeights = ClassWeights(options, dataset);

        var history = new List<EpochMetrics>();
        var stopping = new EarlyStopping(options);
        int startEpoch = 0;
        if (resume is { } saved)
        {
            try
            {
                model.LoadState(saved.State.Model);
                optimizer.LoadState(saved.State.Optimizer);
                Torch.SetRngState(saved.State.Rng);
            }
            catch (Exception e) when (e is InvalidDataException or EngineException)
            {
                throw new InvalidDataException($"'{Path.GetFileName(resumeCheckpointPath)}' is not a valid checkpoint: {e.Message}", e);
            }
            scheduler?.Restore(saved.Checkpoint.SchedulerSteps);
            startEpoch = saved.Checkpoint.Epoch;
            history.AddRange(saved.Checkpoint.History);
            stopping.Restore(saved.Checkpoint, saved.State.Best);
        }

        int lastEpoch = startEpoch;
        for (int epoch = startEpoch + 1; epoch <= options.Epochs && !stopping.Stopped; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            double trainLoss = TrainEpoch(model, parameters, optimizer, scheduler, classWeights, dataset, options, epoch, observer, ct);
            var validation = Evaluation.Run(model, dataset.Validation, dataset.Schema);
            double validationAccuracy = dataset.Schema.IsRegression
                ? double.NaN
                : Evaluation.Accuracy(dataset.Validation.Labels.ToArray<long>(), validation.Predicted);
            var metrics = new EpochMetrics(epoch, trainLoss, validation.Loss, validationAccuracy, epochClock.Elapsed.TotalSeconds)
            {
                LearningRate = optimizer.LearningRate,
            };
            history.Add(metrics);
            stopping.Observe(metrics, model);
            observer.OnEpochEnd(metrics);

            string checkpointPath = Path.Combine(workDir, $"checkpoint-epoch{epoch:D3}.ckpt");
            var checkpoint = new Checkpoint(Checkpoint.CurrentFormat, epoch, options, dataset.Schema, history.ToArray())
            {
                SchedulerSteps = scheduler?.StepCount ?? 0,
                BestMetric = stopping.BestMetric,
                BestEpoch = stopping.BestEpoch,
                EpochsWithoutImprovement = stopping.EpochsWithoutImprovement,
                StoppedEarly = stopping.Stopped,
            };
            Checkpoint.Write(checkpointPath, checkpoint,
                new Checkpoint.State(model.SaveState(), optimizer.SaveState(), Torch.GetRngState(), stopping.BestState));
            observer.OnCheckpoint(checkpointPath, epoch);
            lastEpoch = epoch;
        }

        // With early stopping the package holds the best epoch's weights, not the last epoch's.
        if (stopping.BestState is { } best) model.LoadState(best);
        var test = Evaluation.Run(model, dataset.Test, dataset.Schema);
        var report = dataset.Schema.IsRegression
            ? Evaluation.Regression(Destandardize(dataset.Test.Labels.ToArray<float>(), dataset.Schema), test.Values)
            : Evaluation.Classification(dataset.Test.Labels.ToArray<long>(), test, dataset.Schema.ClassNames);
        string packagePath = Path.Combine(workDir, ModelPackageFileName);
        ModelPackage.Write(packagePath, dataset.Schema, model.SaveState());
        return new TrainingResult(report, packagePath, lastEpoch, clock.Elapsed.TotalSeconds) { History = history };
    }

    private static double[] Destandardize(float[] values, ModelSchema schema) =>
        values.Select(v => v * schema.LabelStd + schema.LabelMean).ToArray();

    // Batch norm cannot train on a single sample: a trailing batch of one is dropped.
    internal static int BatchesPerEpoch(int count, int batchSize)
    {
        int batches = (count + batchSize - 1) / batchSize;
        return count > 1 && count % batchSize == 1 ? batches - 1 : batches;
    }

    private static double TrainEpoch(Module model, IReadOnlyList<Tensor> parameters, Optimizer optimizer, LRScheduler? scheduler,
        Tensor? classWeights, PreparedDataset dataset, TrainingOptions options, int epoch, ITrainingObserver observer, CancellationToken ct)
    {
        var train = dataset.Train;
        bool regression = dataset.Schema.IsRegression;
        // Re-seeding per epoch makes shuffling and dropout identical whether or not the run was resumed.
        Torch.ManualSeed(unchecked(options.Seed * 1_000_003 + epoch));
        var order = DataSplit.Permutation(train.Count, unchecked(options.Seed * 7919 + epoch));
        int batches = BatchesPerEpoch(train.Count, options.BatchSize);
        model.Train();

        double epochLoss = 0, recentLoss = 0;
        int epochSamples = 0, recentBatches = 0;
        var sinceReport = Stopwatch.StartNew();
        using var source = new BatchPrefetcher(train, order, options.BatchSize, batches);
        for (int b = 0; b < batches; b++)
        {
            ct.ThrowIfCancellationRequested();
            var (x, y) = source.Take(b);
            using (x)
            using (y)
            using (Torch.NewDisposeScope())
            {
                int n = (int)y.Shape[0];
                optimizer.ZeroGrad();
                var output = model.Forward(x);
                var loss = regression
                    ? Functional.MseLoss(output.Reshape(n), y)
                    : Functional.CrossEntropy(output, y, classWeights, options.LabelSmoothing);
                loss.Backward();
                if (options.GradClipNorm > 0) NN.Utils.ClipGradNorm(parameters, options.GradClipNorm);
                optimizer.Step();
                scheduler?.Step();
                double value = loss.Item<float>();
                if (!double.IsFinite(value))
                    throw new TrainingDivergedException($"the training loss became {value} at epoch {epoch}, batch {b + 1}: lower the learning rate or turn on gradient clipping");
                epochLoss += value * n;
                epochSamples += n;
                recentLoss += value;
                recentBatches++;
            }
            bool last = b == batches - 1;
            if (last || sinceReport.Elapsed >= ProgressInterval)
            {
                long globalStep = (long)(epoch - 1) * batches + b + 1;
                double fraction = ((epoch - 1) + (b + 1) / (double)batches) / options.Epochs;
                observer.OnProgress(new TrainingProgress(epoch, options.Epochs, b + 1, batches, fraction,
                    recentBatches == 0 ? null : recentLoss / recentBatches, globalStep));
                recentLoss = 0;
                recentBatches = 0;
                sinceReport.Restart();
            }
        }
        return epochSamples == 0 ? double.NaN : epochLoss / epochSamples;
    }

    internal static Optimizer CreateOptimizer(TrainingOptions o, IReadOnlyList<Tensor> parameters) => o.Optimizer switch
    {
        Optimizers.Sgd => new SGD(parameters, o.LearningRate, momentum: o.Momentum, weightDecay: o.WeightDecay, nesterov: o.Nesterov),
        Optimizers.Adam => new Adam(parameters, o.LearningRate, weightDecay: o.WeightDecay),
        Optimizers.AdamW => new AdamW(parameters, o.LearningRate, weightDecay: o.WeightDecay),
        _ => throw new ArgumentException($"unknown optimizer '{o.Optimizer}'"),
    };

    /// <summary>Schedules step once per batch; their lengths are given in epochs and turned into steps here.</summary>
    internal static LRScheduler? CreateScheduler(TrainingOptions o, Optimizer optimizer, int batchesPerEpoch)
    {
        long total = Math.Max(1, (long)o.Epochs * batchesPerEpoch);
        long warmup = (long)Math.Round(o.WarmupEpochs * batchesPerEpoch);
        return o.Schedule switch
        {
            Schedules.None => null,
            Schedules.Step => new StepLR(optimizer, Math.Max(1, o.StepSize * batchesPerEpoch), o.Gamma),
            Schedules.Cosine when warmup > 0 => new WarmupCosineLR(optimizer, warmup, total),
            Schedules.Cosine => new CosineAnnealingLR(optimizer, total),
            Schedules.Warmup when warmup > 0 => new LinearWarmupLR(optimizer, warmup),
            Schedules.Warmup => null,
            Schedules.OneCycle => new OneCycleLR(optimizer, o.LearningRate, total,
                pctStart: warmup > 0 ? Math.Clamp(warmup / (double)total, 0.01, 0.99) : 0.3),
            _ => throw new ArgumentException($"unknown schedule '{o.Schedule}'"),
        };
    }

    /// <summary>Inverse class frequency in the training split ("balanced": N / (K * count)).</summary>
    private static Tensor? ClassWeights(TrainingOptions options, PreparedDataset dataset)
    {
        if (!options.ClassWeights || dataset.Schema.IsRegression) return null;
        int k = dataset.Schema.ClassNames.Count;
        var counts = new long[k];
        foreach (long label in dataset.Train.Labels.ToArray<long>()) counts[label]++;
        double n = dataset.Train.Count;
        var weights = counts.Select(c => c == 0 ? 1f : (float)(n / (k * (double)c))).ToArray();
        using var cpu = Torch.Tensor(weights, k);
        return cpu.To(dataset.Train.Features.Device).DetachFromDisposeScope();
    }

    private static void EnsureCompatible(Checkpoint checkpoint, TrainingOptions options, ModelSchema schema)
    {
        // Everything but the epoch count and the device shapes the data, the network or the curve.
        static string Shape(TrainingOptions o) => JsonSerializer.Serialize(o with { Epochs = 1, Device = "" }, ModelPackage.Json);
        if (Shape(checkpoint.Options) != Shape(options))
            throw new ArgumentException("the checkpoint was made with other training options than this run's (only Epochs and Device may change on resume)");
        if (!checkpoint.Schema.ClassNames.SequenceEqual(schema.ClassNames) || checkpoint.Schema.EncodedWidth != schema.EncodedWidth
            || checkpoint.Schema.InputKind != schema.InputKind)
            throw new ArgumentException("the checkpoint does not match this dataset (classes or features differ)");
    }

    /// <summary>Tracks the best validation figure; keeps that epoch's weights and says when patience ran out.</summary>
    private sealed class EarlyStopping(TrainingOptions options)
    {
        private readonly bool enabled = options.EarlyStoppingPatience > 0;
        private readonly bool higherIsBetter = options.EarlyStoppingMetric == "val_accuracy";

        public double BestMetric { get; private set; } = double.NaN;
        public int BestEpoch { get; private set; }
        public int EpochsWithoutImprovement { get; private set; }
        public bool Stopped { get; private set; }
        public byte[]? BestState { get; private set; }

        public void Observe(EpochMetrics metrics, Module model)
        {
            if (!enabled) return;
            double value = higherIsBetter ? metrics.ValidationAccuracy : metrics.ValidationLoss;
            if (double.IsNaN(value)) return;
            bool better = double.IsNaN(BestMetric) || (higherIsBetter ? value > BestMetric : value < BestMetric);
            if (better)
            {
                BestMetric = value;
                BestEpoch = metrics.Epoch;
                EpochsWithoutImprovement = 0;
                BestState = model.SaveState();
            }
            else if (++EpochsWithoutImprovement >= options.EarlyStoppingPatience)
            {
                Stopped = true;
            }
        }

        public void Restore(Checkpoint checkpoint, byte[]? bestState)
        {
            BestMetric = checkpoint.BestMetric;
            BestEpoch = checkpoint.BestEpoch;
            EpochsWithoutImprovement = checkpoint.EpochsWithoutImprovement;
            Stopped = checkpoint.StoppedEarly;
            BestState = bestState;
        }
    }
}

/// <summary>The loss stopped being a finite number; the message says where and what to try.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
