using System.Diagnostics;
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
    /// Trains per <paramref name="options"/>, writing one checkpoint per epoch and the final model package into
    /// <paramref name="workDir"/>. With <paramref name="resumeCheckpointPath"/>, training continues after that
    /// checkpoint's epoch with the same split and seed. Cancellation is checked between batches.
    /// </summary>
    public static TrainingResult Train(TrainingOptions options, DatasetFiles data, string workDir,
        ITrainingObserver observer, string? resumeCheckpointPath, CancellationToken ct)
    {
        Validate(options);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(observer);
        Directory.CreateDirectory(workDir);
        var clock = Stopwatch.StartNew();
        var device = Device.Parse(options.Device);
        var resume = resumeCheckpointPath is null ? default : Checkpoint.Read(resumeCheckpointPath);

        using var dataset = DatasetLoader.Prepare(data, options);
        if (resume.Checkpoint is { } c) EnsureCompatible(c, options, dataset.Schema);
        dataset.MoveTo(device);
        ct.ThrowIfCancellationRequested();

        Torch.ManualSeed(options.Seed);
        using var model = ModelTemplates.Build(dataset.Schema);
        model.To(device);
        using var optimizer = CreateOptimizer(options, model);
        var history = new List<EpochMetrics>();
        int startEpoch = 0;
        if (resume.Checkpoint is { } checkpoint)
        {
            model.LoadState(resume.ModelState);
            optimizer.LoadState(resume.OptimizerState);
            startEpoch = checkpoint.Epoch;
            history.AddRange(checkpoint.History);
        }

        for (int epoch = startEpoch + 1; epoch <= options.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            double trainLoss = TrainEpoch(model, optimizer, dataset.Train, options, epoch, observer, ct);
            var (validationLoss, predicted) = Evaluation.Run(model, dataset.Validation);
            double validationAccuracy = Evaluation.Accuracy(dataset.Validation.Labels.ToArray<long>(), predicted);
            var metrics = new EpochMetrics(epoch, trainLoss, validationLoss, validationAccuracy, epochClock.Elapsed.TotalSeconds);
            history.Add(metrics);
            observer.OnEpochEnd(metrics);

            string checkpointPath = Path.Combine(workDir, $"checkpoint-epoch{epoch:D3}.ckpt");
            var state = new Checkpoint(Checkpoint.CurrentFormat, epoch, options.Template, options.Optimizer.ToLowerInvariant(), options.Seed, dataset.Schema, history.ToArray());
            Checkpoint.Write(checkpointPath, state, model.SaveState(), optimizer.SaveState());
            observer.OnCheckpoint(checkpointPath, epoch);
        }

        var (_, testPredicted) = Evaluation.Run(model, dataset.Test);
        var report = Evaluation.Report(dataset.Test.Labels.ToArray<long>(), testPredicted, dataset.Schema.ClassNames);
        string packagePath = Path.Combine(workDir, ModelPackageFileName);
        ModelPackage.Write(packagePath, dataset.Schema, model.SaveState());
        return new TrainingResult(report, packagePath, Math.Max(options.Epochs, startEpoch), clock.Elapsed.TotalSeconds) { History = history };
    }

    private static double TrainEpoch(Module model, Optimizer optimizer, SplitTensors train, TrainingOptions options,
        int epoch, ITrainingObserver observer, CancellationToken ct)
    {
        // Re-seeding per epoch makes shuffling and dropout identical whether or not the run was resumed.
        Torch.ManualSeed(unchecked(options.Seed * 1_000_003 + epoch));
        var order = DataSplit.Permutation(train.Count, unchecked(options.Seed * 7919 + epoch));
        int batchSize = options.BatchSize;
        int batches = (train.Count + batchSize - 1) / batchSize;
        var device = train.Features.Device;
        model.Train();

        double epochLoss = 0, recentLoss = 0;
        int epochSamples = 0, recentBatches = 0;
        var sinceReport = Stopwatch.StartNew();
        for (int b = 0; b < batches; b++)
        {
            ct.ThrowIfCancellationRequested();
            int start = b * batchSize, n = Math.Min(batchSize, train.Count - start);
            // Batch norm cannot train on a single sample: drop a trailing batch of one.
            if (n == 1 && train.Count > 1) continue;
            using (var scope = Torch.NewDisposeScope())
            {
                var indices = new long[n];
                for (int i = 0; i < n; i++) indices[i] = order[start + i];
                var index = Torch.Tensor(indices, n).To(device);
                optimizer.ZeroGrad();
                var logits = model.Forward(train.Features.IndexSelect(0, index));
                var loss = Functional.CrossEntropy(logits, train.Labels.IndexSelect(0, index));
                loss.Backward();
                optimizer.Step();
                double value = loss.Item<float>();
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

    private static Optimizer CreateOptimizer(TrainingOptions options, Module model)
    {
        var parameters = model.Parameters();
        try
        {
            return options.Optimizer.ToLowerInvariant() switch
            {
                "adam" => new Adam(parameters, options.LearningRate),
                "sgd" => new SGD(parameters, options.LearningRate, momentum: 0.9),
                _ => throw new ArgumentException($"unknown optimizer '{options.Optimizer}' (expected adam or sgd)"),
            };
        }
        finally
        {
            foreach (var p in parameters) p.Dispose();
        }
    }

    private static void Validate(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!ModelTemplates.Names.Contains(options.Template))
            throw new ArgumentException($"unknown template '{options.Template}' (expected one of: {string.Join(", ", ModelTemplates.Names)})");
        if (options.Optimizer.ToLowerInvariant() is not ("adam" or "sgd"))
            throw new ArgumentException($"unknown optimizer '{options.Optimizer}' (expected adam or sgd)");
        if (options.Epochs < 1) throw new ArgumentException("Epochs must be at least 1");
        if (options.BatchSize < 1) throw new ArgumentException("BatchSize must be at least 1");
        if (!(options.LearningRate > 0)) throw new ArgumentException("LearningRate must be positive");
        if (options.MaxTrainSamples is < 1) throw new ArgumentException("MaxTrainSamples must be at least 1 when set");
    }

    private static void EnsureCompatible(Checkpoint checkpoint, TrainingOptions options, ModelSchema schema)
    {
        if (checkpoint.Template != options.Template || checkpoint.Seed != options.Seed
            || checkpoint.Optimizer != options.Optimizer.ToLowerInvariant())
            throw new ArgumentException(
                $"the checkpoint was made with template '{checkpoint.Template}', optimizer '{checkpoint.Optimizer}', seed {checkpoint.Seed}; " +
                $"this run asks for '{options.Template}', '{options.Optimizer}', {options.Seed}");
        if (!checkpoint.Schema.ClassNames.SequenceEqual(schema.ClassNames) || checkpoint.Schema.EncodedWidth != schema.EncodedWidth
            || checkpoint.Schema.InputKind != schema.InputKind)
            throw new ArgumentException("the checkpoint does not match this dataset (classes or features differ)");
    }
}
