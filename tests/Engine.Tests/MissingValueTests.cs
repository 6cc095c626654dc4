using System.Globalization;
using System.Text;
using ModelOps.Engine.Data;
using ModelOps.Engine.Models;
using ModelOps.Engine.Training;

namespace ModelOps.Engine.Tests;

/// <summary>
/// Missing CSV cells (empty and the tokens of <see cref="MissingCells"/>) in numeric and categorical
/// columns: each policy changes the encoded data as it says, with fills learned from the training split
/// only, the model trains, and prediction fills (or refuses) the same way.
/// </summary>
public class MissingValueTests
{
    private static readonly string[] Tokens = ["", "NA", "?", "NaN", "null", "N/A"];

    private static readonly TrainingOptions Options = new() { Template = "mlp", Device = "cpu", Seed = 42, ValidationFraction = 0.1, TestFraction = 0.2 };

    /// <summary>x = row index (missing when i % 5 == 1), c = red/blue/green (missing when i % 7 == 3), label alternates.</summary>
    private static string WriteSmallCsv(string directory, int n = 40)
    {
        var csv = new StringBuilder("x,c,label\n");
        for (int i = 0; i < n; i++)
        {
            string x = i % 5 == 1 ? Tokens[i % Tokens.Length] : i.ToString(CultureInfo.InvariantCulture);
            string c = i % 7 == 3 ? Tokens[(i + 1) % Tokens.Length] : i % 4 == 0 ? "blue" : i % 9 == 0 ? "green" : "red";
            csv.Append(CultureInfo.InvariantCulture, $"{x},{c},{(i % 2 == 0 ? "p" : "q")}\n");
        }
        string path = Path.Combine(directory, "small.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    private static bool XMissing(int i) => i % 5 == 1;
    private static bool CMissing(int i) => i % 7 == 3;
    private static string C(int i) => i % 4 == 0 ? "blue" : i % 9 == 0 ? "green" : "red";

    private static PreparedDataset Prepare(string csv, string policy) =>
        DatasetLoader.Prepare(new DatasetFiles { Kind = "csv", CsvPath = csv, LabelColumn = "label" }, Options with { MissingValues = policy });

    private static float[] Row(SplitTensors split, int row, int width) => split.Features.data<float>().ToArray().AsSpan(row * width, width).ToArray();

    [Fact]
    public void Mean_FillsNumbersWithTheTrainingMeanAndCategoriesWithTheTrainingMode()
    {
        using var dir = new TempDirectory();
        using var data = Prepare(WriteSmallCsv(dir.Path), MissingValuePolicies.Mean);
        var (train, _, _) = DataSplit.Split(40, Options.ValidationFraction, Options.TestFraction, Options.Seed);

        var x = data.Schema.Features[0];
        var c = data.Schema.Features[1];
        Assert.Equal(FeatureKind.Numeric, x.Kind); // the tokens do not make the column text
        Assert.Equal(train.Where(i => !XMissing(i)).Average(i => (double)i), x.Mean, 9); // training rows only, missing cells left out
        Assert.Equal(["blue", "green", "red"], c.Categories);
        Assert.Equal("red", c.Mode);

        int width = data.Schema.EncodedWidth;
        int missingX = Array.FindIndex(train, XMissing);
        Assert.Equal(0f, Row(data.Train, missingX, width)[0]); // the mean, standardized
        int missingC = Array.FindIndex(train, CMissing);
        Assert.Equal([0f, 0f, 1f], Row(data.Train, missingC, width)[1..]); // one-hot "red"
        Assert.Equal(40, data.Train.Count + data.Validation.Count + data.Test.Count);
    }

    [Fact]
    public void Zero_FillsNumbersWithZeroAndCategoriesWithNoCategory()
    {
        using var dir = new TempDirectory();
        using var data = Prepare(WriteSmallCsv(dir.Path), MissingValuePolicies.Zero);
        var (train, _, _) = DataSplit.Split(40, Options.ValidationFraction, Options.TestFraction, Options.Seed);
        var x = data.Schema.Features[0];
        int width = data.Schema.EncodedWidth;

        Assert.Equal((float)((0 - x.Mean) / x.Std), Row(data.Train, Array.FindIndex(train, XMissing), width)[0], 5);
        Assert.Equal([0f, 0f, 0f], Row(data.Train, Array.FindIndex(train, CMissing), width)[1..]);
    }

    [Fact]
    public void Drop_RemovesEveryRowWithAMissingFeature()
    {
        using var dir = new TempDirectory();
        using var data = Prepare(WriteSmallCsv(dir.Path), MissingValuePolicies.Drop);
        int complete = Enumerable.Range(0, 40).Count(i => !XMissing(i) && !CMissing(i));
        Assert.Equal(complete, data.Train.Count + data.Validation.Count + data.Test.Count);
        Assert.Equal(["blue", "green", "red"], data.Schema.Features[1].Categories);
    }

    [Fact]
    public void Error_NamesTheColumnTheDataRowAndTheFileLine()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<DatasetFormatException>(() => Prepare(WriteSmallCsv(dir.Path), MissingValuePolicies.Error));
        Assert.StartsWith("data row 2: 'x' is missing (line 3 of the file); the missing-value policy 'error' refuses incomplete rows", ex.Message);
    }

    [Fact]
    public void Error_OnAMissingCategory_NamesThatColumn()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "cat.csv");
        File.WriteAllText(path, "x,c,label\n1,red,p\n2,blue,q\n3,NA,p\n4,red,q\n");
        var ex = Assert.Throws<DatasetFormatException>(() => Prepare(path, MissingValuePolicies.Error));
        Assert.StartsWith("data row 3: 'c' is missing (line 4 of the file)", ex.Message);
    }

    [Fact]
    public void AColumnWithNoValues_IsRefusedWithASentence()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "empty.csv");
        File.WriteAllText(path, "x,blank,label\n1,,p\n2,NA,q\n3,,p\n4,?,q\n");
        var ex = Assert.Throws<DatasetFormatException>(() => Prepare(path, MissingValuePolicies.Mean));
        Assert.StartsWith("column 'blank' has no values: all 4 cells are missing", ex.Message);
    }

    /// <summary>The blobs (x1, x2 decide the class), with missing x2 and colour cells spelled every way.</summary>
    private static string WriteBlobsWithGaps(string directory, int n = 450)
    {
        var (features, labels) = TestData.Blobs(n, seed: 11);
        var csv = new StringBuilder("x1,x2,colour,species\n");
        for (int i = 0; i < n; i++)
        {
            string x2 = i % 10 == 3 ? Tokens[i % Tokens.Length] : features[2 * i + 1].ToString("R", CultureInfo.InvariantCulture);
            string colour = i % 13 == 5 ? Tokens[i % Tokens.Length] : i % 3 == 0 ? "red" : "blue";
            csv.Append(CultureInfo.InvariantCulture, $"{features[2 * i].ToString("R", CultureInfo.InvariantCulture)},{x2},{colour},{TestData.Classes[labels[i]]}\n");
        }
        string path = Path.Combine(directory, "gaps.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    [Theory]
    [InlineData("mean")]
    [InlineData("zero")]
    [InlineData("drop")]
    public void EachFillingPolicy_Trains(string policy)
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = WriteBlobsWithGaps(dir.Path), LabelColumn = "species" };
        var options = new TrainingOptions { Template = "mlp", Epochs = 6, BatchSize = 32, LearningRate = 0.01, Device = "cpu", Seed = 21, MissingValues = policy };

        var result = Trainer.Train(options, data, dir.Path, new RecordingObserver(), null, CancellationToken.None);

        Assert.True(result.Evaluation.Accuracy > 0.85, $"{policy}: accuracy {result.Evaluation.Accuracy}");
        int complete = Enumerable.Range(0, 450).Count(i => i % 10 != 3 && i % 13 != 5);
        Assert.Equal(DataSplit.Split(policy == "drop" ? complete : 450, 0.1, 0.2, 21).Test.Length, result.Evaluation.Samples);
    }

    [Fact]
    public void Prediction_FillsAMissingValueAsTrainingDid_OrRefusesItUnderDrop()
    {
        using var dir = new TempDirectory();
        var data = new DatasetFiles { Kind = "csv", CsvPath = WriteBlobsWithGaps(dir.Path), LabelColumn = "species" };
        var options = new TrainingOptions { Template = "mlp", Epochs = 6, BatchSize = 32, LearningRate = 0.01, Device = "cpu", Seed = 21 };

        var mean = Trainer.Train(options, data, Path.Combine(dir.Path, "mean"), new RecordingObserver(), null, CancellationToken.None);
        using (var predictor = Predictor.Load(mean.ModelPackagePath))
        {
            Assert.NotNull(predictor.Schema.Features[2].Mode);
            // Missing x2 (the mean) and missing colour (the mode): x1 = -3 is still class alpha's side.
            var filled = predictor.PredictTabular([[-3.0, "NA", null], [-3.0, double.NaN, "?"], [-3.0, null, ""]]);
            Assert.All(filled, p => AssertSame(filled[0], p));
            var explicitFill = Assert.Single(predictor.PredictTabular([[-3.0, predictor.Schema.Features[1].Mean, predictor.Schema.Features[2].Mode]]));
            AssertSame(explicitFill, filled[0]);
        }

        var drop = Trainer.Train(options with { MissingValues = "drop" }, data, Path.Combine(dir.Path, "drop"), new RecordingObserver(), null, CancellationToken.None);
        using (var predictor = Predictor.Load(drop.ModelPackagePath))
        {
            var ex = Assert.Throws<InvalidModelInputException>(() => predictor.PredictTabular([[-3.0, 0.5, "NA"]]));
            Assert.Equal("row 0, feature 'colour': the value is missing, and this model was trained with the missing-value policy 'drop', which fills nothing; send a value", ex.Message);
        }
    }

    // Rows of one batch and of another may differ in the last float bits.
    private static void AssertSame(Prediction expected, Prediction actual)
    {
        Assert.Equal(expected.Label, actual.Label);
        foreach (var (name, p) in expected.Probabilities) Assert.Equal(p, actual.Probabilities[name], 5);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("  NA ", true)]
    [InlineData("N/A", true)]
    [InlineData("?", true)]
    [InlineData("nan", true)]
    [InlineData("NULL", true)]
    [InlineData("Na", false)]
    [InlineData("none", false)]
    [InlineData("0", false)]
    public void MissingCells_MatchTheDocumentedTokensExactly(string cell, bool missing) =>
        Assert.Equal(missing, MissingCells.IsMissing(cell));
}
