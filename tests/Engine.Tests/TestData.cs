using System.Globalization;
using System.Text;

namespace ModelOps.Engine.Tests;

/// <summary>Deterministic generated datasets and throwaway directories.</summary>
internal static class TestData
{
    public static readonly string[] Classes = ["alpha", "beta", "gamma"];
    private static readonly (double X, double Y)[] Centers = [(-3, 0), (3, 0), (0, 4)];

    /// <summary>Three well-separated Gaussian blobs: features [n, 2], class ids [n].</summary>
    public static (float[] Features, long[] Labels) Blobs(int n, int seed = 7)
    {
        var random = new Random(seed);
        var x = new float[n * 2];
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % 3;
            x[2 * i] = (float)(Centers[c].X + Gaussian(random) * 0.7);
            x[2 * i + 1] = (float)(Centers[c].Y + Gaussian(random) * 0.7);
            y[i] = c;
        }
        return (x, y);
    }

    /// <summary>
    /// The blobs as a CSV with a quoted categorical noise column and a string label; a shift moves every
    /// centre, and numeric noise columns (n1, n2, ...) hide the two that matter among others (a related task
    /// on another distribution, and one that takes data to learn, for fine-tuning).
    /// </summary>
    public static string WriteBlobsCsv(string directory, int n = 600, int seed = 7, double shiftX = 0, double shiftY = 0,
        int noiseColumns = 0, string fileName = "blobs.csv")
    {
        var (x, y) = Blobs(n, seed);
        var random = new Random(seed + 1);
        var noise = new Random(seed + 2);
        string[] colors = ["red", "green, dark", "blue"];
        var csv = new StringBuilder("x1,x2,");
        for (int c = 1; c <= noiseColumns; c++) csv.Append('n').Append(c).Append(',');
        csv.Append("color,species\n");
        for (int i = 0; i < n; i++)
        {
            csv.Append((x[2 * i] + shiftX).ToString("R", CultureInfo.InvariantCulture)).Append(',')
               .Append((x[2 * i + 1] + shiftY).ToString("R", CultureInfo.InvariantCulture)).Append(',');
            for (int c = 0; c < noiseColumns; c++) csv.Append((3 * Gaussian(noise)).ToString("R", CultureInfo.InvariantCulture)).Append(',');
            csv.Append('"').Append(colors[random.Next(3)]).Append("\",").Append(Classes[y[i]]).Append('\n');
        }
        string path = Path.Combine(directory, fileName);
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    /// <summary>y = 3 x1 - 2 x2 + 1.5 [kind = b] + small noise, with a categorical column and a few missing x2 cells.</summary>
    public static string WriteRegressionCsv(string directory, int n = 500, int seed = 3, bool withMissing = false)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("x1,x2,kind,y\n");
        for (int i = 0; i < n; i++)
        {
            double x1 = Gaussian(random), x2 = Gaussian(random);
            string kind = random.Next(2) == 0 ? "a" : "b";
            double y = 3 * x1 - 2 * x2 + (kind == "b" ? 1.5 : 0) + 0.05 * Gaussian(random);
            string x2Text = withMissing && i % 25 == 7 ? "" : x2.ToString("R", CultureInfo.InvariantCulture);
            csv.Append(CultureInfo.InvariantCulture, $"{x1.ToString("R", CultureInfo.InvariantCulture)},{x2Text},{kind},{y.ToString("R", CultureInfo.InvariantCulture)}\n");
        }
        string path = Path.Combine(directory, "regression.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    private static readonly string[] Positive = ["great", "wonderful", "loved", "excellent", "superb", "delightful", "brilliant", "fun"];
    private static readonly string[] Negative = ["awful", "boring", "hated", "terrible", "dull", "painful", "weak", "mess"];
    private static readonly string[] Filler = ["the", "movie", "was", "and", "plot", "acting", "really", "a", "it", "story", "I", "this"];

    /// <summary>Short reviews: the label follows which sentiment words a review holds, among filler words.</summary>
    public static string WriteReviewsCsv(string directory, int n = 600, int seed = 5)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("label,text\n");
        for (int i = 0; i < n; i++)
        {
            bool good = i % 2 == 0;
            var words = new List<string>();
            int length = 6 + random.Next(10);
            for (int w = 0; w < length; w++) words.Add(Filler[random.Next(Filler.Length)]);
            for (int k = 0; k < 2; k++)
                words.Insert(random.Next(words.Count), (good ? Positive : Negative)[random.Next(Positive.Length)]);
            csv.Append(good ? "pos" : "neg").Append(",\"").Append(string.Join(' ', words)).Append(".\"\n");
        }
        string path = Path.Combine(directory, "reviews.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    /// <summary>
    /// 4-D IDX colour images [n, 3, size, size] and labels: class 0 is mostly red, class 1 mostly blue,
    /// with noise, so a CNN must read the channels to tell them apart.
    /// </summary>
    public static (string Images, string Labels) WriteColourIdx(string directory, int n = 400, int size = 32, int seed = 9)
    {
        var random = new Random(seed);
        var header = new List<byte> { 0, 0, 0x08, 4 };
        foreach (int d in new[] { n, 3, size, size }) header.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        var pixels = new byte[n * 3 * size * size];
        var labels = new byte[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = (byte)(i % 2);
            int strong = labels[i] == 0 ? 0 : 2;
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < size * size; p++)
                    pixels[((i * 3) + c) * size * size + p] = (byte)Math.Clamp((c == strong ? 150 : 90) + random.Next(-60, 60), 0, 255);
        }
        string images = Path.Combine(directory, "colour-images-idx4-ubyte");
        File.WriteAllBytes(images, [.. header, .. pixels]);
        var labelHeader = new List<byte> { 0, 0, 0x08, 1, (byte)(n >> 24), (byte)(n >> 16), (byte)(n >> 8), (byte)n };
        string labelsPath = Path.Combine(directory, "colour-labels-idx1-ubyte");
        File.WriteAllBytes(labelsPath, [.. labelHeader, .. labels]);
        return (images, labelsPath);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "modelops-engine-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

internal sealed class RecordingObserver : ModelOps.Engine.Training.ITrainingObserver
{
    public List<ModelOps.Engine.Training.TrainingProgress> Progress { get; } = [];
    public List<ModelOps.Engine.Training.EpochMetrics> Epochs { get; } = [];
    public List<(string Path, int Epoch)> Checkpoints { get; } = [];
    public Action<int>? AfterEpoch { get; init; }

    public void OnProgress(ModelOps.Engine.Training.TrainingProgress progress) => Progress.Add(progress);
    public void OnEpochEnd(ModelOps.Engine.Training.EpochMetrics metrics) => Epochs.Add(metrics);
    public void OnCheckpoint(string checkpointPath, int epoch)
    {
        Checkpoints.Add((checkpointPath, epoch));
        AfterEpoch?.Invoke(epoch);
    }
}
