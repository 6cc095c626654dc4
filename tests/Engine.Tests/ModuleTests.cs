using ModelOps.Engine.NN;
using ModelOps.Engine.Optim;

namespace ModelOps.Engine.Tests;

public class ModuleTests
{
    private static Sequential TinyMlp() => new(new Linear(2, 16), new ReLU(), new Linear(16, 3));

    [Fact]
    public void TinyMlp_TrainedWithAdamOnSeparableBlobs_ExceedsNinetyFivePercentAccuracy()
    {
        Torch.ManualSeed(1);
        var (x, y) = TestData.Blobs(300);
        using var model = TinyMlp();
        var parameters = model.Parameters();
        using var optimizer = new Adam(parameters, lr: 0.05);
        foreach (var p in parameters) p.Dispose();
        using var inputs = Torch.Tensor(x, 300, 2);
        using var targets = Torch.Tensor(y, 300);

        for (int step = 0; step < 60; step++)
        {
            using var scope = Torch.NewDisposeScope();
            optimizer.ZeroGrad();
            var loss = Functional.CrossEntropy(model.Forward(inputs), targets);
            loss.Backward();
            optimizer.Step();
        }

        using var predicted = model.Eval().Forward(inputs).ArgMax(1);
        var labels = predicted.ToArray<long>();
        double accuracy = labels.Zip(y).Count(p => p.First == p.Second) / 300.0;
        Assert.True(accuracy > 0.95, $"accuracy {accuracy}");
    }

    [Fact]
    public void Sgd_WithMomentum_ReducesLoss()
    {
        Torch.ManualSeed(2);
        var (x, y) = TestData.Blobs(90);
        using var model = TinyMlp();
        var parameters = model.Parameters();
        using var optimizer = new SGD(parameters, lr: 0.1, momentum: 0.9);
        using var scope = Torch.NewDisposeScope();
        var inputs = Torch.Tensor(x, 90, 2);
        var targets = Torch.Tensor(y, 90);
        float first = Functional.CrossEntropy(model.Forward(inputs), targets).Item<float>();
        for (int step = 0; step < 30; step++)
        {
            optimizer.ZeroGrad();
            Functional.CrossEntropy(model.Forward(inputs), targets).Backward();
            optimizer.Step();
        }
        float last = Functional.CrossEntropy(model.Forward(inputs), targets).Item<float>();
        Assert.True(last < first / 2, $"loss {first} -> {last}");
    }

    [Fact]
    public void Cnn_ForwardAndBackwardOn28x28_GivesLogitShapeAndNonZeroGradients()
    {
        Torch.ManualSeed(3);
        using var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(16 * 7 * 7, 32), new ReLU(), new Dropout(0.1), new Linear(32, 10));
        using var scope = Torch.NewDisposeScope();
        var input = Torch.Randn(4, 1, 28, 28);
        var logits = model.Forward(input);
        Assert.Equal(new long[] { 4, 10 }, logits.Shape);

        Functional.CrossEntropy(logits, Torch.Tensor(new long[] { 0, 1, 2, 3 }, 4)).Backward();
        var parameters = model.Parameters();
        Assert.Equal(12, parameters.Count); // conv w,b + bn w,b twice, linear w,b twice
        Assert.All(parameters, p =>
        {
            var grad = p.Grad;
            Assert.NotNull(grad);
            Assert.Equal(p.Shape, grad!.Shape);
            Assert.Contains(grad.ToArray<float>(), g => g != 0f);
        });
        Assert.Equal(model.ParameterCount(), parameters.Sum(p => p.NumberOfElements));
    }

    [Fact]
    public void SaveState_ThenLoadIntoFreshModel_GivesIdenticalPredictions()
    {
        Torch.ManualSeed(4);
        using var original = new Sequential(new Linear(5, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 3));
        using var scope = Torch.NewDisposeScope();
        original.Forward(Torch.Randn(16, 5)); // moves batch-norm running statistics away from their defaults
        original.Eval();
        var input = Torch.Randn(6, 5);
        var expected = original.Forward(input).ToArray<float>();

        Torch.ManualSeed(99);
        using var restored = new Sequential(new Linear(5, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 3));
        Assert.NotEqual(expected, restored.Eval().Forward(input).ToArray<float>());
        string path = Path.Combine(Path.GetTempPath(), $"modelops-state-{Guid.NewGuid():N}.bin");
        try
        {
            original.Save(path);
            restored.Load(path);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Equal(expected, restored.Forward(input).ToArray<float>());
    }

    [Fact]
    public void OptimizerState_SavedAndLoaded_ContinuesIdentically()
    {
        var (x, y) = TestData.Blobs(30);
        float[] RunSteps(bool reload)
        {
            Torch.ManualSeed(5);
            using var model = TinyMlp();
            var ps = model.Parameters();
            var optimizer = new Adam(ps, lr: 0.01);
            using var scope = Torch.NewDisposeScope();
            var inputs = Torch.Tensor(x, 30, 2);
            var targets = Torch.Tensor(y, 30);
            for (int i = 0; i < 6; i++)
            {
                if (reload && i == 3)
                {
                    var state = optimizer.SaveState();
                    optimizer.Dispose();
                    optimizer = new Adam(ps, lr: 0.01);
                    optimizer.LoadState(state);
                }
                optimizer.ZeroGrad();
                Functional.CrossEntropy(model.Forward(inputs), targets).Backward();
                optimizer.Step();
            }
            optimizer.Dispose();
            return model.Forward(inputs).ToArray<float>();
        }
        Assert.Equal(RunSteps(reload: false), RunSteps(reload: true));
    }

    [Fact]
    public void Linear_FedWrongFeatureCount_ThrowsShapeMismatchWithLibtorchMessage()
    {
        using var layer = new Linear(4, 2);
        using var scope = Torch.NewDisposeScope();
        var ex = Assert.Throws<ShapeMismatchException>(() => layer.Forward(Torch.Zeros([5, 3])));
        Assert.Contains("cannot be multiplied", ex.Message);
        Assert.Contains("5x3", ex.Message);
    }

    [Fact]
    public void LoadState_WithGarbageBytes_ThrowsEngineException()
    {
        using var layer = new Linear(4, 2);
        Assert.ThrowsAny<EngineException>(() => layer.LoadState([1, 2, 3, 4, 5]));
    }
}
