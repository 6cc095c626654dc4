using ModelOps.Engine.Training;
using TorchSharp;

namespace ModelOps.Engine.Tests;

/// <summary>The GPU path: runs only where the linked libtorch sees a CUDA device; on CPU builds it checks the refusal.</summary>
public class CudaTrainingTests
{
    [Fact]
    public void Cnn_OnCuda_TrainsWhereAGpuIsPresentAndIsRefusedClearlyElsewhere()
    {
        using var dir = new TempDirectory();
        var (images, labels) = TestData.WriteColourIdx(dir.Path, n: 200);
        var data = new DatasetFiles { Kind = "idx", TrainImagesPath = images, TrainLabelsPath = labels };
        var options = new TrainingOptions { Template = "cnn", Epochs = 2, BatchSize = 32, ConvWidth = 8, Device = "cuda", Seed = 4 };
        if (!torch.cuda.is_available())
        {
            var ex = Assert.Throws<ArgumentException>(() => Trainer.Train(options, data, dir.Path, new RecordingObserver(), null, CancellationToken.None));
            Assert.Contains("CUDA is not available", ex.Message);
            return;
        }
        var result = Trainer.Train(options, data, dir.Path, new RecordingObserver(), null, CancellationToken.None);
        Assert.True(result.Evaluation.Accuracy > 0.9, $"accuracy {result.Evaluation.Accuracy}");
    }
}
