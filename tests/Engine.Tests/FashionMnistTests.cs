using ModelOps.Engine.Models;
using ModelOps.Engine.Training;

namespace ModelOps.Engine.Tests;

public class FashionMnistTests
{
    private const string Root = "/usr/share/datasets/fashion-mnist";
    private static readonly string[] Names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    [Fact]
    public void Cnn_OneEpochOnThreeThousandImages_LearnsAndPredictsImages()
    {
        string trainImages = Path.Combine(Root, "train-images-idx3-ubyte.gz");
        // ./test.sh installs Debian's dataset-fashion-mnist; a silent pass without it would prove nothing.
        Assert.True(File.Exists(trainImages), $"{trainImages} is missing: install the dataset-fashion-mnist package.");

        using var dir = new TempDirectory();
        var data = new DatasetFiles
        {
            Kind = "idx",
            TrainImagesPath = trainImages,
            TrainLabelsPath = Path.Combine(Root, "train-labels-idx1-ubyte.gz"),
            TestImagesPath = Path.Combine(Root, "t10k-images-idx3-ubyte.gz"),
            TestLabelsPath = Path.Combine(Root, "t10k-labels-idx1-ubyte.gz"),
            ClassNames = Names,
        };
        var options = new TrainingOptions { Template = "cnn", Epochs = 1, BatchSize = 64, MaxTrainSamples = 3000, Device = "cpu" };

        var result = Trainer.Train(options, data, dir.Path, new RecordingObserver(), null, CancellationToken.None);

        Assert.Equal(10_000, result.Evaluation.Samples);
        Assert.True(result.Evaluation.Accuracy > 0.6, $"accuracy {result.Evaluation.Accuracy}");
        using var predictor = Predictor.Load(result.ModelPackagePath);
        Assert.Equal([1, 28, 28], predictor.Schema.ImageShape!);
        Assert.Equal(Names, predictor.Schema.ClassNames);
        var prediction = Assert.Single(predictor.PredictImages([new float[784]]));
        Assert.Contains(prediction.Label, Names);
        var ex = Assert.Throws<InvalidModelInputException>(() => predictor.PredictImages([new float[700]]));
        Assert.Contains("expected 784 pixel values", ex.Message);
    }
}
