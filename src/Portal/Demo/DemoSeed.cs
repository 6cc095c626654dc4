using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Engine.Training;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Demo;

/// <summary>
/// First start on an empty store: register Fashion-MNIST (from Debian's dataset-fashion-mnist), a
/// generated tabular dataset and a generated text dataset of short reviews, queue one short tabular run, and record a generated hyperparameter sweep
/// of tracked runs (as the Python client would) so the experiments and compare pages have something to show,
/// and one retraining schedule (nightly and on new versions of the tabular dataset) for the Schedules page.
/// Runs once: nothing is seeded when any dataset exists.
/// </summary>
public sealed class DemoSeed(PortalDb db, DatasetIngest ingest, RunLauncher launcher, Tracking.TrackingStore store, IOptions<PortalOptions> options, ILogger<DemoSeed> log, Retraining.ScheduleService schedules)
{
    public const string TabularName = "sensor-faults";
    public const string FashionName = "fashion-mnist";
    public const string ReviewsName = "product-reviews";
    public static readonly string[] FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public async Task SeedAsync(CancellationToken ct)
    {
        try
        {
            if (await db.Datasets.AnyAsync(ct))
                return;
            log.LogInformation("Empty store: seeding the demo datasets");
            var csv = GenerateSensorFaults(rows: 1200, seed: 42);
            var tabular = await ingest.IngestCsvAsync(TabularName, "status", "sensor-faults.csv", new MemoryStream(Encoding.UTF8.GetBytes(csv)), ct);
            await ingest.IngestCsvAsync(ReviewsName, "sentiment", "product-reviews.csv",
                new MemoryStream(Encoding.UTF8.GetBytes(GenerateReviews(rows: 600, seed: 11))), ct, textColumn: "text");
            await SeedFashionMnistAsync(ct);
            await SeedSweepAsync(runs: 40, steps: 60, ct);
            await launcher.LaunchAsync(new NewRunRequest(tabular.Id, Name: "demo: sensor faults MLP", IdempotencyKey: "demo-seed-run-1")
            {
                Options = new TrainingOptions
                {
                    Template = Templates.Mlp, Epochs = 15, BatchSize = 32, LearningRate = 0.003, Optimizer = Optimizers.AdamW, WeightDecay = 0.01,
                    Schedule = Schedules.Cosine, WarmupEpochs = 1, Seed = 42, ValidationFraction = 0.15, TestFraction = 0.2,
                },
            }, "demo", ct);
            // A retraining schedule, so the Schedules page shows what one looks like: nightly, and on every new version.
            await schedules.CreateAsync(new Retraining.ScheduleRequest
            {
                Name = "sensor-faults nightly", Description = "Retrains the sensor-fault classifier; promotes it when test accuracy improves by 0.01.",
                Dataset = TabularName, TargetModel = "sensor-faults",
                Options = new TrainingOptions { Template = Templates.Mlp, Epochs = 15, BatchSize = 32, LearningRate = 0.003, Seed = 42, ValidationFraction = 0.15, TestFraction = 0.2 },
                Cron = "0 3 * * *", TimeZone = "UTC", OnNewDatasetVersion = true,
                GateMode = Retraining.GateModes.Promote, GateMetric = "accuracy", GateMargin = 0.01,
            }, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogError(ex, "Seeding the demo failed; the portal runs on without it");
        }
    }

    private async Task SeedFashionMnistAsync(CancellationToken ct)
    {
        var dir = options.Value.FashionMnistDirectory;
        string F(string name) => Path.Combine(dir, name);
        var files = new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
        if (!files.All(f => File.Exists(F(f))))
        {
            log.LogWarning("Fashion-MNIST not found under {Dir} (install Debian's dataset-fashion-mnist); skipped", dir);
            return;
        }
        await using var trainImages = File.OpenRead(F(files[0]));
        await using var trainLabels = File.OpenRead(F(files[1]));
        await using var testImages = File.OpenRead(F(files[2]));
        await using var testLabels = File.OpenRead(F(files[3]));
        await ingest.IngestIdxAsync(FashionName, new IdxUpload(
            new NamedStream(files[0], trainImages), new NamedStream(files[1], trainLabels),
            new NamedStream(files[2], testImages), new NamedStream(files[3], testLabels), FashionClasses), ct);
    }

    /// <summary>
    /// A learning-rate and depth sweep whose accuracy really depends on its params (best near lr 3e-3,
    /// deeper helps, SGD is slower), logged through the same store the log-batch API writes.
    /// </summary>
    private async Task SeedSweepAsync(int runs, int steps, CancellationToken ct)
    {
        var random = new Random(7);
        var now = DateTime.UtcNow;
        var experiment = new Tracking.Experiment
        {
            Name = "demo: mlp sweep", Description = "A generated hyperparameter sweep, logged as tracked runs.", Owner = "demo",
            CreatedAt = now, UpdatedAt = now, Tags = [new Tracking.ExperimentTag { Key = "team", Value = "vision" }],
        };
        db.Experiments.Add(experiment);
        await db.SaveChangesAsync(ct);
        string[] optimizers = ["adam", "sgd", "adamw"];
        for (var i = 0; i < runs; i++)
        {
            var lr = Math.Pow(10, -4 + random.NextDouble() * 3);
            var optimizer = optimizers[random.Next(optimizers.Length)];
            var depth = 1 + random.Next(4);
            var dropout = Math.Round(random.NextDouble() * 0.5, 2);
            var ceiling = 0.93 - 0.08 * Math.Abs(Math.Log10(lr) + 2.5) + 0.01 * depth - 0.04 * Math.Abs(dropout - 0.2) - (optimizer == "sgd" ? 0.03 : 0);
            var started = now.AddMinutes(-5 * (runs - i));
            var run = new Run
            {
                ExperimentId = experiment.Id, Kind = RunKind.Tracked, Name = $"sweep-{i + 1:00}", Template = "", Optimizer = "",
                Status = RunStatus.Finished, Source = "sweep", CreatedAt = started, CreatedBy = "demo", StartedAt = started, EndedAt = started.AddMinutes(4),
                Progress = 1, StatusMessage = "finished",
            };
            db.Runs.Add(run);
            await db.SaveChangesAsync(ct);
            var points = new List<Tracking.PointRow>();
            var at = new DateTimeOffset(started).ToUnixTimeMilliseconds();
            for (var step = 1; step <= steps; step++)
            {
                var progress = 1 - Math.Exp(-step * lr * (optimizer == "sgd" ? 40 : 120));
                var accuracy = Math.Clamp(0.1 + (ceiling - 0.1) * progress + (random.NextDouble() - 0.5) * 0.01, 0, 1);
                points.Add(new("val_accuracy", step, at + step * 4000, Math.Round(accuracy, 4)));
                points.Add(new("loss", step, at + step * 4000, Math.Round(2.3 * (1 - progress) + (1 - ceiling) + random.NextDouble() * 0.02, 4)));
            }
            var parameters = new Dictionary<string, string>
            {
                ["lr"] = lr.ToString("0.######", CultureInfo.InvariantCulture), ["optimizer"] = optimizer,
                ["depth"] = depth.ToString(CultureInfo.InvariantCulture), ["dropout"] = dropout.ToString(CultureInfo.InvariantCulture), ["batch_size"] = "64",
            };
            await store.WriteAsync(db, run.Id, new Tracking.ValidBatch(points, parameters, new Dictionary<string, string> { ["sweep"] = "demo" }), ct);
        }
    }

    /// <summary>
    /// Short product reviews for the text templates: each mixes neutral words with a few words of its
    /// sentiment and, now and then, one of the other, so a bag of words is not quite enough and word
    /// order ("not good") matters a little. Deterministic for a seed.
    /// </summary>
    public static string GenerateReviews(int rows, int seed)
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

    /// <summary>
    /// A deterministic three-class problem with numeric and categorical features: faults come from
    /// heat and vibration, made worse on line C and on the night shift, with some label noise.
    /// </summary>
    public static string GenerateSensorFaults(int rows, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder("temperature,vibration,pressure,line,shift,status\n");
        string[] lines = ["A", "B", "C"];
        for (var i = 0; i < rows; i++)
        {
            var temperature = 60 + random.NextDouble() * 40;
            var vibration = random.NextDouble() * 10;
            var pressure = 1 + random.NextDouble() * 2;
            var line = lines[random.Next(3)];
            var night = random.Next(2) == 1;
            var risk = (temperature - 60) / 40 * 0.55 + vibration / 10 * 0.45 + (line == "C" ? 0.12 : 0) + (night ? 0.08 : 0);
            var status = risk switch { < 0.45 => "ok", < 0.7 => "warning", _ => "fault" };
            if (random.NextDouble() < 0.03) status = new[] { "ok", "warning", "fault" }[random.Next(3)];
            text.Append(string.Create(CultureInfo.InvariantCulture, $"{temperature:0.00},{vibration:0.000},{pressure:0.000},{line},{(night ? "night" : "day")},{status}\n"));
        }
        return text.ToString();
    }
}
