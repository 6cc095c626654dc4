using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Demo;

/// <summary>
/// First start on an empty store: register Fashion-MNIST (from Debian's dataset-fashion-mnist) and a
/// generated tabular dataset, and queue one short tabular run so every page has something to show.
/// Runs once: nothing is seeded when any dataset exists.
/// </summary>
public sealed class DemoSeed(PortalDb db, DatasetIngest ingest, RunLauncher launcher, IOptions<PortalOptions> options, ILogger<DemoSeed> log)
{
    public const string TabularName = "sensor-faults";
    public const string FashionName = "fashion-mnist";
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
            await SeedFashionMnistAsync(ct);
            await launcher.LaunchAsync(new NewRunRequest(tabular.Id, Templates.Mlp, Epochs: 15, BatchSize: 32, LearningRate: 0.003, Optimizer: "adam",
                Seed: 42, ValidationFraction: 0.15, TestFraction: 0.2, MaxTrainSamples: null, Name: "demo: sensor faults MLP", IdempotencyKey: "demo-seed-run-1"), "demo", ct);
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
