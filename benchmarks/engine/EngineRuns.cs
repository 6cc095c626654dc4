using System.Diagnostics;
using System.Text;
using ModelOps.Engine.Data;
using ModelOps.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ModelOps.Benchmarks.Engine;

/// <summary>
/// The rows that go through the engine's own <see cref="Trainer"/>: its cost against a bare TorchSharp
/// loop on the same tensors, Fashion-MNIST accuracy, and the text-transformer on the demo reviews.
/// </summary>
public static class EngineRuns
{
    public static DatasetFiles FashionFiles(string dir) => new()
    {
        Kind = DatasetFiles.Idx,
        TrainImagesPath = Path.Combine(dir, "train-images-idx3-ubyte.gz"),
        TrainLabelsPath = Path.Combine(dir, "train-labels-idx1-ubyte.gz"),
        TestImagesPath = Path.Combine(dir, "t10k-images-idx3-ubyte.gz"),
        TestLabelsPath = Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"),
    };

    /// <summary>
    /// The Trainer's options that make the <c>mlp</c> and <c>cnn</c> templates the bench's <see cref="Mlp"/>
    /// 784-256-128-10 and <see cref="Cnn"/>: Adam lr 1e-3, no schedule, batch 128, nothing held out for
    /// validation (the bare loop validates nothing either), no gradient clipping or class weights.
    /// </summary>
    public static TrainingOptions ComparisonOptions(string template, BenchOptions o)
    {
        var common = new TrainingOptions
        {
            Epochs = o.Epochs, BatchSize = 128, Optimizer = Optimizers.Adam, LearningRate = 1e-3, Schedule = Schedules.None,
            ValidationFraction = 0, Seed = o.Seed, Device = "cpu", MaxTrainSamples = o.Samples,
        };
        return template switch
        {
            "mlp" => common with { Template = "mlp", HiddenLayers = [256, 128], BatchNorm = false, Dropout = 0 },
            "cnn" => common with { Template = "cnn", ConvBlocks = 2, ConvWidth = 32, BatchNorm = true, Dropout = 0.25 },
            _ => throw new ArgumentException($"unknown template '{template}'"),
        };
    }

    public sealed record Comparison(double[] TrainerSeconds, double[] BareSeconds, int Samples, double TrainerFirstEpochLoss,
        double BareFirstEpochLoss, double CheckpointSeconds, double TrainerWallSeconds)
    {
        /// <summary>The bare loop fed by the Trainer's prefetcher (MLP only; empty otherwise).</summary>
        public double[] PrefetchedSeconds { get; init; } = [];
    }

    /// <summary>
    /// The Trainer and a bare loop, each <c>Epochs</c> epochs from the same initial weights, data, order
    /// and dropout seeds (the bare loop re-seeds and shuffles per epoch as the Trainer does, so their
    /// epoch losses agree). Times are per epoch: the Trainer's <see cref="EpochMetrics.Seconds"/> (its
    /// training epoch plus validation of an empty split; checkpoints are written after it), the bare
    /// loop's own clock around the same work.
    /// </summary>
    public static Comparison CompareWithTrainer(string template, BenchOptions o, Action<string> log)
    {
        var options = ComparisonOptions(template, o);
        var files = FashionFiles(o.DataDir);

        // The bare loop: the very tensors the Trainer trains on (its prepared training split). For the MLP,
        // whose steps are short, the bare loop also runs once more with the Trainer's prefetcher, to show
        // what handing each batch to a pool thread costs.
        double[] bare, prefetched = [];
        double bareFirstLoss;
        int samples;
        using (var dataset = DatasetLoader.Prepare(files, options))
        {
            samples = dataset.Train.Count;
            (bare, bareFirstLoss) = BareLoop(template, dataset.Train, options, prefetch: false, log);
            if (template == "mlp") (prefetched, _) = BareLoop(template, dataset.Train, options, prefetch: true, log);
        }

        var recorder = new EpochRecorder($"trainer {template}", log);
        string workDir = Directory.CreateTempSubdirectory("modelops-engine-bench-").FullName;
        TrainingResult result;
        try
        {
            result = Trainer.Train(options, files, workDir, recorder, null, CancellationToken.None);
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
        var epochs = recorder.Epochs;
        return new Comparison(epochs.Select(e => e.Seconds).ToArray(), bare, samples, epochs[0].TrainLoss, bareFirstLoss,
            Stats.Median(recorder.CheckpointSeconds), result.Seconds)
        {
            PrefetchedSeconds = prefetched,
        };
    }

    /// <summary>
    /// A TorchSharp loop that re-seeds and shuffles per epoch as the Trainer does (same initial weights,
    /// order and dropout draws, so the epoch losses agree); <paramref name="prefetch"/> takes the batches
    /// from the Trainer's <see cref="BatchPrefetcher"/> instead of gathering them in the loop.
    /// </summary>
    private static (double[] Seconds, double FirstEpochLoss) BareLoop(string template, SplitTensors train, TrainingOptions options, bool prefetch, Action<string> log)
    {
        var x = train.Features;
        var y = train.Labels;
        int samples = train.Count, batchSize = options.BatchSize;
        int batches = Trainer.BatchesPerEpoch(samples, batchSize);
        var seconds = new double[options.Epochs];
        double firstLoss = double.NaN;
        manual_seed(options.Seed);
        using var model = Workloads.Build(template);
        using var optimizer = optim.Adam(model.parameters(), lr: options.LearningRate);
        string name = prefetch ? "bare + prefetcher" : "bare";
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            manual_seed(unchecked(options.Seed * 1_000_003 + epoch));
            var order = DataSplit.Permutation(samples, unchecked(options.Seed * 7919 + epoch));
            model.train();
            double lossSum = 0;
            using var prefetcher = prefetch ? new BatchPrefetcher(train, order, batchSize, batches) : null;
            for (int b = 0; b < batches; b++)
            {
                // As the Trainer: the batch is taken outside the step's scope and disposed after it.
                Tensor input, target;
                if (prefetcher is not null)
                {
                    (input, target) = prefetcher.Take(b);
                }
                else
                {
                    int start = b * batchSize, n = Math.Min(batchSize, samples - start);
                    var rows = new long[n];
                    for (int i = 0; i < n; i++) rows[i] = order[start + i];
                    using var index = tensor(rows);
                    input = x.index_select(0, index);
                    target = y.index_select(0, index);
                }
                using (input)
                using (target)
                using (NewDisposeScope())
                {
                    optimizer.zero_grad();
                    var loss = functional.cross_entropy(model.call(input), target);
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>() * target.shape[0];
                }
            }
            seconds[epoch - 1] = clock.Elapsed.TotalSeconds;
            if (epoch == 1) firstLoss = lossSum / samples;
            log($"[{name}] {template} epoch {epoch}/{options.Epochs}: {seconds[epoch - 1]:0.00} s, {samples / seconds[epoch - 1]:N0} samples/s, mean loss {lossSum / samples:0.0000}");
        }
        return (seconds, firstLoss);
    }

    public sealed record AccuracyRun(double Accuracy, int Epochs, double TrainingSeconds, double WallSeconds, double[] EpochSeconds, TrainingOptions Options);

    /// <summary>Fashion-MNIST through <see cref="Trainer.Train"/> with the <c>cnn</c> or <c>mlp</c> template.</summary>
    public static TrainingOptions AccuracyOptions(string template, BenchOptions o)
    {
        var common = new TrainingOptions
        {
            BatchSize = o.AccBatchSize, Optimizer = o.AccOptimizer, LearningRate = o.AccLearningRate, WeightDecay = o.AccWeightDecay,
            Schedule = o.AccSchedule, WarmupEpochs = o.AccWarmupEpochs, LabelSmoothing = o.AccLabelSmoothing,
            ValidationFraction = o.AccValidationFraction, Seed = o.Seed, Device = "cpu", MaxTrainSamples = o.Samples,
        };
        return template == "cnn"
            ? common with { Template = "cnn", Epochs = o.CnnEpochs, ConvBlocks = 2, ConvWidth = 32, BatchNorm = true, Dropout = o.CnnDropout }
            : common with { Template = "mlp", Epochs = o.MlpEpochs, HiddenLayers = o.MlpHidden, BatchNorm = true, Dropout = o.MlpDropout };
    }

    public static AccuracyRun Accuracy(TrainingOptions options, DatasetFiles files, Action<string> log, string name)
    {
        var recorder = new EpochRecorder(name, log);
        string workDir = Directory.CreateTempSubdirectory("modelops-engine-bench-").FullName;
        try
        {
            var clock = Stopwatch.StartNew();
            var result = Trainer.Train(options, files, workDir, recorder, null, CancellationToken.None);
            var seconds = recorder.Epochs.Select(e => e.Seconds).ToArray();
            return new AccuracyRun(result.Evaluation.Accuracy, result.EpochsCompleted, seconds.Sum(), clock.Elapsed.TotalSeconds, seconds, options);
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
    }

    /// <summary>The text-transformer template with its defaults (but the epochs) on the demo reviews.</summary>
    public static (AccuracyRun Run, string Csv) TextTransformer(BenchOptions o, Action<string> log)
    {
        string dir = Directory.CreateTempSubdirectory("modelops-engine-bench-text-").FullName;
        try
        {
            string csv = Path.Combine(dir, "product-reviews.csv");
            File.WriteAllText(csv, DemoReviews.Generate(o.TextRows, seed: 11));
            var files = new DatasetFiles { Kind = DatasetFiles.Text, CsvPath = csv, LabelColumn = "sentiment", TextColumn = "text" };
            var options = new TrainingOptions { Template = "text-transformer", Epochs = o.TextEpochs, Seed = o.Seed, Device = "cpu" };
            return (Accuracy(options, files, log, "text-transformer"), csv);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>Keeps the Trainer's epochs and how long each checkpoint took to write after its epoch.</summary>
internal sealed class EpochRecorder(string name, Action<string> log) : ITrainingObserver
{
    private readonly Stopwatch sinceEpoch = new();
    public List<EpochMetrics> Epochs { get; } = [];
    public List<double> CheckpointSeconds { get; } = [];

    public void OnProgress(TrainingProgress progress) { }

    public void OnEpochEnd(EpochMetrics m)
    {
        Epochs.Add(m);
        sinceEpoch.Restart();
        log(FormattableString.Invariant(
            $"[{name}] epoch {m.Epoch}: {m.Seconds:0.00} s, train loss {m.TrainLoss:0.0000}, val loss {m.ValidationLoss:0.0000}, val accuracy {m.ValidationAccuracy:0.0000}, lr {m.LearningRate:G3}"));
    }

    public void OnCheckpoint(string checkpointPath, int epoch) => CheckpointSeconds.Add(sinceEpoch.Elapsed.TotalSeconds);
}

/// <summary>
/// The portal's demo reviews: a copy of <c>ModelOps.Portal.Demo.DemoSeed.GenerateReviews</c> (the
/// bench does not reference the portal); keep the two in step.
/// </summary>
public static class DemoReviews
{
    public static string Generate(int rows, int seed)
    {
        string[] positive = ["great", "excellent", "love", "perfect", "sturdy", "reliable", "fast", "comfortable", "beautiful", "recommend", "happy", "solid"];
        string[] negative = ["broken", "terrible", "hate", "flimsy", "slow", "useless", "disappointing", "refund", "cheap", "noisy", "awful", "returned"];
        string[] neutral = ["the", "product", "arrived", "box", "it", "was", "this", "after", "a", "week", "and", "my", "with", "for", "kitchen", "battery", "color", "size"];
        var random = new Random(seed);
        var text = new StringBuilder("sentiment,text\n");
        for (var i = 0; i < rows; i++)
        {
            var good = random.Next(2) == 1;
            var words = new List<string>();
            var length = 6 + random.Next(10);
            for (var w = 0; w < length; w++)
            {
                var roll = random.NextDouble();
                var pool = roll < 0.6 ? neutral : (roll < 0.92) == good ? positive : negative;
                words.Add(pool[random.Next(pool.Length)]);
            }
            // A negated opinion reads as its opposite.
            if (random.NextDouble() < 0.15) words.Insert(random.Next(words.Count), "not " + (good ? negative : positive)[random.Next(positive.Length)]);
            text.Append(good ? "positive" : "negative").Append(',').Append(string.Join(' ', words)).Append('\n');
        }
        return text.ToString();
    }
}
