using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using ModelOps.Engine.Data;
using ModelOps.Engine.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ModelOps.Engine.Training;

public static class Trainer
{
    public const string ModelPackageFileName = "model" + ModelPackage.FileExtension;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Trains per <paramref name="options"/>, writing a full checkpoint per epoch and the final model package
    /// into <paramref name="workDir"/>. With <paramref name="resumeCheckpointPath"/>, training continues after
    /// that checkpoint's epoch with the same split, seed, optimizer state and schedule, so the loss curve is
    /// the one an uninterrupted run would have had. With <paramref name="parentModelPackagePath"/> the run
    /// fine-tunes that model (its network and input encoding, a new head when the classes differ, the
    /// first layers frozen per <see cref="TrainingOptions.TrainableLayers"/>). Cancellation is checked
    /// between batches.
    /// </summary>
    public static TrainingResult Train(TrainingOptions options, DatasetFiles data, string workDir,
        ITrainingObserver observer, string? resumeCheckpointPath, CancellationToken ct, string? parentModelPackagePath = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(observer);
        options.EnsureValid();
        try
        {
            return Run(options, data, workDir, observer, resumeCheckpointPath, parentModelPackagePath, ct);
        }
        catch (ExternalException e)
        {
            throw EngineException.From(e);
        }
    }

    /// <summary>
    /// Scores a trained model package on the test split a run with <paramref name="runOptions"/> holds out
    /// of <paramref name="data"/>: the same rows (the split depends only on the data, the fractions and the
    /// seed), encoded the way the package was trained (its features' scale, its vocabulary). This is how a
    /// retraining schedule compares the model in Production with a candidate on the candidate's own test
    /// data. A package that cannot read this data (another input kind, a missing feature column, other
    /// classes) gives <see cref="DatasetFormatException"/> saying why; a corrupt one <see cref="InvalidDataException"/>.
    /// </summary>
    public static EvaluationReport EvaluatePackage(string modelPackagePath, TrainingOptions runOptions, DatasetFiles data)
    {
        ArgumentNullException.ThrowIfNull(runOptions);
        ArgumentNullException.ThrowIfNull(data);
        try
        {
            using var package = FineTuneParent.Load(modelPackagePath);
            if (runOptions.Task != package.Schema.Task)
                throw new DatasetFormatException($"the model does {package.Schema.Task}, but this data is split for {runOptions.Task}");
            var options = runOptions.WithNetworkOf(package.Schema) with { Device = "cpu", Task = package.Schema.Task };
            using var dataset = DatasetLoader.Prepare(data, options, package.Schema);
            if (!package.Schema.IsRegression && !package.Schema.ClassNames.SequenceEqual(dataset.Schema.ClassNames, StringComparer.Ordinal))
                throw new DatasetFormatException(
                    $"the model knows the classes {string.Join(", ", package.Schema.ClassNames)}, but this data has {string.Join(", ", dataset.Schema.ClassNames)}");
            if (dataset.Test.Count == 0) throw new DatasetFormatException("the test split is empty");
            return Score(package.Model, dataset.Test, package.Schema);
        }
        catch (ExternalException e)
        {
            throw EngineException.From(e);
        }
    }

    private static TrainingResult Run(TrainingOptions options, DatasetFiles data, string workDir, ITrainingObserver observer,
        string? resumeCheckpointPath, string? parentModelPackagePath, CancellationToken ct)
    {
        Directory.CreateDirectory(workDir);
        var clock = Stopwatch.StartNew();
        var device = Devices.Resolve(options.Device);
        (Checkpoint Checkpoint, Checkpoint.State State)? resume = resumeCheckpointPath is null ? null : Checkpoint.Read(resumeCheckpointPath);
        using var parent = parentModelPackagePath is null ? null : FineTuneParent.Load(parentModelPackagePath);
        if (parent is not null) options = parent.Adopt(options);

        using var dataset = DatasetLoader.Prepare(data, options, parent?.Schema);
        if (resume is { } r) EnsureCompatible(r.Checkpoint, options, dataset.Schema);
        if (dataset.Train.Count == 0) throw new DatasetFormatException("the training split is empty");
        dataset.MoveTo(device);
        ct.ThrowIfCancellationRequested();

        var session = new Session(options, dataset.Schema, device, parent, observer, ct);
        SplitTensors train = dataset.Train, validation = dataset.Validation;
        SplitTensors? pool = null, none = null;
        CrossValidationReport? crossValidation = resume?.Checkpoint.CrossValidation;
        var fitOptions = options;
        try
        {
            if (options.CrossValidationFolds > 0)
            {
                pool = SplitTensors.Concat(dataset.Train, dataset.Validation);
                crossValidation ??= CrossValidate(session, pool);
                // The refit sees every training row; its length comes from the folds, so nothing is held out for it.
                none = pool.Subset([]);
                (train, validation) = (pool, none);
                fitOptions = options with { Epochs = crossValidation.RefitEpochs, EarlyStoppingPatience = 0 };
            }

            var phase = new Phase(options.CrossValidationFolds, options.CrossValidationFolds + (options.CrossValidationFolds > 0 ? 1 : 0));
            using var model = session.NewModel(out var fresh, out int frozenLayers, out var frozenNorms);
            var fit = Fit(session, model, frozenNorms, train, validation, fitOptions, phase, workDir, resume, crossValidation);

            // With early stopping the package holds the best epoch's weights, not the last epoch's.
            fit.Stopping.BestState?.LoadInto(model);
            var report = Score(model, dataset.Test, dataset.Schema);
            string packagePath = Path.Combine(workDir, ModelPackageFileName);
            ModelPackage.Write(packagePath, dataset.Schema, ModuleState.Save(model));
            return new TrainingResult(report, packagePath, fit.LastEpoch, clock.Elapsed.TotalSeconds)
            {
                History = fit.History,
                CrossValidation = crossValidation,
                FreshParameters = parent is null ? [] : fresh,
                FrozenLayers = frozenLayers,
            };
        }
        finally
        {
            none?.Dispose();
            pool?.Dispose();
        }
    }

    /// <summary>What every fit of one run shares: its options, schema, device, parent and observer.</summary>
    private sealed record Session(TrainingOptions Options, ModelSchema Schema, Device Device, FineTuneParent? Parent,
        ITrainingObserver Observer, CancellationToken Ct)
    {
        /// <summary>A freshly initialised network (the same initial weights for the same seed), or the parent's weights.</summary>
        public nn.Module<Tensor, Tensor> NewModel(out IReadOnlyList<string> freshParameters, out int frozenLayers, out IReadOnlyList<nn.Module> frozenNorms)
        {
            Seed(Options.Seed);
            var model = ModelTemplates.Build(Schema);
            freshParameters = Parent?.Initialise(model, Schema) ?? [];
            // Freeze after the move: gradients are switched off on the parameters that will train.
            model.to(Device);
            (frozenLayers, frozenNorms) = Freezing.Apply(model, Parent is null ? 0 : Options.TrainableLayers);
            return model;
        }
    }

    /// <summary>Which slice of the run's progress bar a fit fills: fit <c>Index</c> of <c>Count</c>.</summary>
    private readonly record struct Phase(int Index, int Count)
    {
        public double Fraction(double withinFit) => Count <= 1 ? withinFit : (Index + withinFit) / Count;
    }

    private sealed record FitResult(List<EpochMetrics> History, EarlyStopping Stopping, int LastEpoch);

    private static void Seed(long seed)
    {
        manual_seed(seed);
        if (cuda.is_available()) cuda.manual_seed_all(seed);
    }

    /// <summary>
    /// Trains one model for <c>options.Epochs</c> epochs (or until early stopping). With a work folder it
    /// writes a checkpoint per epoch and reports epochs to the observer; without one (a cross-validation
    /// fold) it only reports progress.
    /// </summary>
    private static FitResult Fit(Session session, nn.Module<Tensor, Tensor> model, IReadOnlyList<nn.Module> frozenNorms,
        SplitTensors train, SplitTensors validation, TrainingOptions options, Phase phase, string? workDir,
        (Checkpoint Checkpoint, Checkpoint.State State)? resume, CrossValidationReport? crossValidation)
    {
        var schema = session.Schema;
        var trainable = model.parameters().Where(p => p.requires_grad).ToArray();
        using var optimizer = Optimization.CreateOptimizer(options, trainable);
        int batches = BatchesPerEpoch(train.Count, options.BatchSize);
        var scheduler = Optimization.CreateScheduler(options, optimizer, batches);
        using var classWeights = ClassWeights(options, schema, train);

        var history = new List<EpochMetrics>();
        var stopping = new EarlyStopping(options);
        int startEpoch = 0;
        if (resume is { } saved)
        {
            // The schedule is replayed step by step, which gives the optimizer the very learning rate
            // (and one-cycle momentum) the interrupted run had; the optimizer's state then overwrites the rest.
            for (long s = 0; s < saved.Checkpoint.SchedulerSteps; s++) scheduler?.step();
            try
            {
                saved.State.Model.LoadInto(model);
                if (saved.State.Optimizer is { } state) Optimization.LoadState(optimizer, state);
                stopping.Restore(saved.Checkpoint, ToTorchSharp(saved.State.Best, model));
            }
            catch (Exception e) when (e is InvalidDataException or ExternalException or ArgumentException or IOException)
            {
                throw new InvalidDataException($"the checkpoint is not a valid checkpoint: {ModuleState.FirstLine(e.Message)}", e);
            }
            startEpoch = saved.Checkpoint.Epoch;
            history.AddRange(saved.Checkpoint.History);
        }

        long schedulerSteps = resume?.Checkpoint.SchedulerSteps ?? 0;
        int lastEpoch = startEpoch;
        for (int epoch = startEpoch + 1; epoch <= options.Epochs && !stopping.Stopped; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            double trainLoss = TrainEpoch(session, model, frozenNorms, trainable, optimizer, scheduler, classWeights, train, options, epoch, phase);
            if (scheduler is not null) schedulerSteps += batches;
            var evaluation = Evaluation.Run(model, validation, schema);
            double validationAccuracy = schema.IsRegression || validation.Count == 0
                ? double.NaN
                : Evaluation.Accuracy(validation.Labels.cpu().data<long>().ToArray(), evaluation.Predicted);
            var metrics = new EpochMetrics(epoch, trainLoss, evaluation.Loss, validationAccuracy, epochClock.Elapsed.TotalSeconds)
            {
                LearningRate = Optimization.LearningRate(optimizer),
            };
            history.Add(metrics);
            stopping.Observe(metrics, model);
            lastEpoch = epoch;
            if (workDir is null) continue;

            session.Observer.OnEpochEnd(metrics);
            string checkpointPath = Path.Combine(workDir, $"checkpoint-epoch{epoch:D3}.ckpt");
            var checkpoint = new Checkpoint(Checkpoint.CurrentFormat, epoch, session.Options, schema, history.ToArray())
            {
                SchedulerSteps = schedulerSteps,
                BestMetric = stopping.BestMetric,
                BestEpoch = stopping.BestEpoch,
                EpochsWithoutImprovement = stopping.EpochsWithoutImprovement,
                StoppedEarly = stopping.Stopped,
                CrossValidation = crossValidation,
            };
            Optimization.SaveState(optimizer, out var optimizerState);
            Checkpoint.Write(checkpointPath, checkpoint, ModuleState.Save(model), optimizerState, stopping.BestState?.Bytes);
            session.Observer.OnCheckpoint(checkpointPath, epoch);
        }
        return new FitResult(history, stopping, lastEpoch);
    }

    // A best epoch restored from a pre-TorchSharp checkpoint is re-saved in TorchSharp's format, so the
    // checkpoints this run writes hold TorchSharp's format only.
    private static ModelWeights? ToTorchSharp(ModelWeights? weights, nn.Module<Tensor, Tensor> model)
    {
        if (weights is null || weights.Format == WeightsFormat.TorchSharp) return weights;
        var current = ModuleState.Save(model);
        weights.LoadInto(model);
        var converted = ModuleState.Weights(model);
        ModuleState.Load(model, current);
        return converted;
    }

    /// <summary>
    /// Trains a model per fold on the other folds (stratified for classification) and scores it on its
    /// own; the refit length is the run's epochs, or with early stopping the folds' mean best epoch.
    /// </summary>
    private static CrossValidationReport CrossValidate(Session session, SplitTensors pool)
    {
        var options = session.Options;
        int k = options.CrossValidationFolds;
        var classIds = session.Schema.IsRegression ? null : pool.Labels.cpu().data<long>().ToArray();
        var folds = Folds.Assign(pool.Count, k, options.Seed, classIds);
        var results = new List<FoldResult>(k);
        var bestEpochs = new List<int>(k);
        for (int f = 0; f < k; f++)
        {
            session.Ct.ThrowIfCancellationRequested();
            var rest = Enumerable.Range(0, k).Where(o => o != f).SelectMany(o => folds[o]).ToArray();
            using var train = pool.Subset(rest);
            using var heldOut = pool.Subset(folds[f]);
            using var model = session.NewModel(out _, out _, out var frozenNorms);
            var fit = Fit(session, model, frozenNorms, train, heldOut, options with { Seed = options.Seed + f + 1 },
                new Phase(f, k + 1), workDir: null, resume: null, crossValidation: null);
            fit.Stopping.BestState?.LoadInto(model);
            var report = Score(model, heldOut, session.Schema);
            var figures = new Dictionary<string, double>(Evaluation.Figures(report))
            {
                ["loss"] = Evaluation.Run(model, heldOut, session.Schema).Loss,
            };
            var result = new FoldResult(f + 1, train.Count, heldOut.Count, fit.LastEpoch, figures);
            results.Add(result);
            bestEpochs.Add(fit.Stopping.BestEpoch > 0 ? fit.Stopping.BestEpoch : fit.LastEpoch);
            session.Observer.OnFold(result);
        }
        int refit = options.EarlyStoppingPatience > 0 ? Math.Max(1, (int)Math.Round(bestEpochs.Average())) : options.Epochs;
        return CrossValidationReport.From(results, refit);
    }

    private static EvaluationReport Score(nn.Module<Tensor, Tensor> model, SplitTensors split, ModelSchema schema)
    {
        var output = Evaluation.Run(model, split, schema);
        return schema.IsRegression
            ? Evaluation.Regression(Destandardize(split.Labels.cpu().data<float>().ToArray(), schema), output.Values)
            : Evaluation.Classification(split.Labels.cpu().data<long>().ToArray(), output, schema.ClassNames);
    }

    private static double[] Destandardize(float[] values, ModelSchema schema) =>
        values.Select(v => v * schema.LabelStd + schema.LabelMean).ToArray();

    // Batch norm cannot train on a single sample: a trailing batch of one is dropped.
    internal static int BatchesPerEpoch(int count, int batchSize)
    {
        int batches = (count + batchSize - 1) / batchSize;
        return count > 1 && count % batchSize == 1 ? batches - 1 : batches;
    }

    private static double TrainEpoch(Session session, nn.Module<Tensor, Tensor> model, IReadOnlyList<nn.Module> frozenNorms,
        IReadOnlyList<Parameter> parameters, OptimizerHelper optimizer, optim.lr_scheduler.LRScheduler? scheduler, Tensor? classWeights,
        SplitTensors train, TrainingOptions options, int epoch, Phase phase)
    {
        bool regression = session.Schema.IsRegression;
        // Re-seeding per epoch makes shuffling and dropout identical whether or not the run was resumed.
        Seed(unchecked(options.Seed * 1_000_003 + epoch));
        var order = DataSplit.Permutation(train.Count, unchecked(options.Seed * 7919 + epoch));
        int batches = BatchesPerEpoch(train.Count, options.BatchSize);
        model.train();
        foreach (var norm in frozenNorms) norm.eval();

        double epochLoss = 0, recentLoss = 0;
        int epochSamples = 0, recentBatches = 0;
        var sinceReport = Stopwatch.StartNew();
        using var source = new BatchPrefetcher(train, order, options.BatchSize, batches);
        for (int b = 0; b < batches; b++)
        {
            session.Ct.ThrowIfCancellationRequested();
            var (x, y) = source.Take(b);
            using (x)
            using (y)
            using (NewDisposeScope())
            {
                int n = (int)y.shape[0];
                optimizer.zero_grad();
                var loss = Loss(model.call(x), y, regression, classWeights, options.LabelSmoothing);
                loss.backward();
                if (options.GradClipNorm > 0) nn.utils.clip_grad_norm_(parameters, options.GradClipNorm);
                optimizer.step();
                scheduler?.step();
                double value = loss.item<float>();
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
                double fraction = phase.Fraction(((epoch - 1) + (b + 1) / (double)batches) / options.Epochs);
                session.Observer.OnProgress(new TrainingProgress(epoch, options.Epochs, b + 1, batches, fraction,
                    recentBatches == 0 ? null : recentLoss / recentBatches, globalStep));
                recentLoss = 0;
                recentBatches = 0;
                sinceReport.Restart();
            }
        }
        return epochSamples == 0 ? double.NaN : epochLoss / epochSamples;
    }

    /// <summary>
    /// The training loss of one batch: mean squared error on the standardized label, or cross entropy with
    /// the optional class weights and label smoothing (PyTorch's definitions: the smoothed target puts
    /// <c>smoothing / classes</c> on every class, and a weighted mean divides by the targets' total weight).
    /// </summary>
    internal static Tensor Loss(Tensor output, Tensor target, bool regression, Tensor? classWeights, double labelSmoothing) => regression
        ? nn.functional.mse_loss(output.reshape(target.shape[0]), target)
        : nn.functional.cross_entropy(output, target, classWeights, label_smoothing: labelSmoothing);

    /// <summary>Inverse class frequency in the training split ("balanced": N / (K * count)).</summary>
    internal static Tensor? ClassWeights(TrainingOptions options, ModelSchema schema, SplitTensors train)
    {
        if (!options.ClassWeights || schema.IsRegression) return null;
        int k = schema.ClassNames.Count;
        var counts = new long[k];
        foreach (long label in train.Labels.cpu().data<long>().ToArray()) counts[label]++;
        double n = train.Count;
        var weights = counts.Select(c => c == 0 ? 1f : (float)(n / (k * (double)c))).ToArray();
        return tensor(weights, device: train.Features.device);
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
        public ModelWeights? BestState { get; private set; }

        public void Observe(EpochMetrics metrics, nn.Module model)
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
                BestState = ModuleState.Weights(model);
            }
            else if (++EpochsWithoutImprovement >= options.EarlyStoppingPatience)
            {
                Stopped = true;
            }
        }

        public void Restore(Checkpoint checkpoint, ModelWeights? bestState)
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
