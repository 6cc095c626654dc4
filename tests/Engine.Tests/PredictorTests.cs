using ModelOps.Engine.Models;
using ModelOps.Engine.Training;

namespace ModelOps.Engine.Tests;

/// <summary>Shares one trained tabular package across the predictor tests.</summary>
public sealed class TrainedBlobsPackage : IDisposable
{
    private readonly TempDirectory dir = new();

    public TrainedBlobsPackage()
    {
        var options = new TrainingOptions { Template = "mlp", Epochs = 3, BatchSize = 32, LearningRate = 0.01, Device = "cpu" };
        var data = new DatasetFiles { Kind = "csv", CsvPath = TestData.WriteBlobsCsv(dir.Path), LabelColumn = "species" };
        Result = Trainer.Train(options, data, dir.Path, NullTrainingObserver.Instance, null, CancellationToken.None);
    }

    public TrainingResult Result { get; }
    public string Directory => dir.Path;

    public void Dispose() => dir.Dispose();
}

public class PredictorTests(TrainedBlobsPackage package) : IClassFixture<TrainedBlobsPackage>
{
    [Fact]
    public void Load_ExposesSchemaWithFeaturesInCsvOrder()
    {
        using var predictor = Predictor.Load(package.Result.ModelPackagePath);
        var schema = predictor.Schema;
        Assert.Equal("mlp", schema.Template);
        Assert.Equal("tabular", schema.InputKind);
        Assert.Equal(["x1", "x2", "color"], schema.Features.Select(f => f.Name));
        Assert.Equal([FeatureKind.Numeric, FeatureKind.Numeric, FeatureKind.Categorical], schema.Features.Select(f => f.Kind));
        Assert.Equal(["blue", "green, dark", "red"], schema.Features[2].Categories);
        Assert.Equal(TestData.Classes, schema.ClassNames);
    }

    [Fact]
    public void PredictTabular_PointsNearClassCenters_GetThoseClasses()
    {
        using var predictor = Predictor.Load(package.Result.ModelPackagePath);
        var predictions = predictor.PredictTabular([
            [-3.0, 0.0, "red"],
            [3, 0.1f, "blue"],
            ["0", "4.2", "unseen-colour"],
        ]);
        Assert.Equal(["alpha", "beta", "gamma"], predictions.Select(p => p.Label));
        Assert.Equal([0, 1, 2], predictions.Select(p => p.ClassIndex));
        Assert.All(predictions, p => Assert.Equal(1.0, p.Probabilities.Values.Sum(), 4));
    }

    [Fact]
    public void PredictTabular_TwoLoadsOfSamePackage_GiveIdenticalProbabilities()
    {
        IReadOnlyList<IReadOnlyList<object?>> rows = [[-1.0, 2.0, "green, dark"], [0.5, -0.5, "red"]];
        using var a = Predictor.Load(package.Result.ModelPackagePath);
        using var b = Predictor.Load(package.Result.ModelPackagePath);
        var pa = a.PredictTabular(rows);
        var pb = b.PredictTabular(rows);
        // The same weights give the same answer, up to the last bits of a float: MKL's kernels may take
        // another path for buffers of another alignment (each load has its own), so sums can round differently.
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(pa[i].Label, pb[i].Label);
            Assert.Equal(pa[i].Probabilities.Keys, pb[i].Probabilities.Keys);
            foreach (var (label, p) in pa[i].Probabilities)
                Assert.Equal(p, pb[i].Probabilities[label], 1e-6);
        }
    }

    [Fact]
    public void PredictTabular_WrongFeatureCount_ThrowsInvalidModelInput()
    {
        using var predictor = Predictor.Load(package.Result.ModelPackagePath);
        var ex = Assert.Throws<InvalidModelInputException>(() => predictor.PredictTabular([[1.0, 2.0, "red"], [1.0, "red"]]));
        Assert.Equal("row 1: expected 3 features, got 2", ex.Message);
    }

    [Fact]
    public void PredictTabular_NonNumericValueForNumericFeature_ThrowsInvalidModelInput()
    {
        using var predictor = Predictor.Load(package.Result.ModelPackagePath);
        var ex = Assert.Throws<InvalidModelInputException>(() => predictor.PredictTabular([["abc", 2.0, "red"]]));
        Assert.Equal("row 0, feature 'x1': 'abc' is not a number", ex.Message);
        // The package was trained with the default missing-value policy (mean): a missing number is imputed, not refused.
        Assert.Single(predictor.PredictTabular([[null, 2.0, "red"]]));
    }

    [Fact]
    public void PredictImages_OnTabularModel_ThrowsInvalidModelInput()
    {
        using var predictor = Predictor.Load(package.Result.ModelPackagePath);
        Assert.Throws<InvalidModelInputException>(() => predictor.PredictImages([new float[784]]));
    }

    [Fact]
    public void Load_CorruptFile_ThrowsInvalidDataException()
    {
        string path = Path.Combine(package.Directory, "corrupt.mopkg");
        File.WriteAllBytes(path, [0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7]);
        var ex = Assert.Throws<InvalidDataException>(() => Predictor.Load(path));
        Assert.Contains("not a valid model package", ex.Message);
    }

    [Fact]
    public void Load_PackageWithTruncatedWeights_ThrowsInvalidDataException()
    {
        string path = Path.Combine(package.Directory, "truncated.mopkg");
        File.Copy(package.Result.ModelPackagePath, path, overwrite: true);
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
        {
            zip.GetEntry("weights.dat")!.Delete();
            using var stream = zip.CreateEntry("weights.dat").Open();
            stream.Write(new byte[] { 1, 2, 3 });
        }
        var ex = Assert.Throws<InvalidDataException>(() => Predictor.Load(path));
        // The manifest records the weights' length and CRC, so damage is caught before TorchSharp parses anything.
        Assert.Contains("not a valid model package", ex.Message);
        Assert.Contains("weights.dat is 3 bytes", ex.Message);
    }
}
