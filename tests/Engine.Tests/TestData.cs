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

    /// <summary>The blobs as a CSV with a quoted categorical noise column and a string label.</summary>
    public static string WriteBlobsCsv(string directory, int n = 600, int seed = 7)
    {
        var (x, y) = Blobs(n, seed);
        var random = new Random(seed + 1);
        string[] colors = ["red", "green, dark", "blue"];
        var csv = new StringBuilder("x1,x2,color,species\n");
        for (int i = 0; i < n; i++)
        {
            csv.Append(x[2 * i].ToString("R", CultureInfo.InvariantCulture)).Append(',')
               .Append(x[2 * i + 1].ToString("R", CultureInfo.InvariantCulture)).Append(',')
               .Append('"').Append(colors[random.Next(3)]).Append("\",")
               .Append(Classes[y[i]]).Append('\n');
        }
        string path = Path.Combine(directory, "blobs.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
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
