using ModelOps.Engine.NN;
using ModelOps.Engine.Optim;

namespace ModelOps.Engine.Tests;

public class ModuleTests
{
    private static Sequential TinyMlp() => new(new Linear(2, 16), new ReLU(), new Linear(16, 3));

    // A module written in C# the way a TorchSharp user would: children and a parameter registered in the constructor.
    private sealed class Block : Module
    {
        private readonly Linear conv1;
        private readonly Linear conv2;
        private readonly Tensor scale;

        public Block(int width)
        {
            conv1 = new Linear(width, width);
            conv2 = new Linear(width, width, bias: false);
            scale = Torch.Ones([width]);
            RegisterModule("conv1", conv1);
            RegisterModule("conv2", conv2);
            RegisterParameter("scale", scale);
            RegisterBuffer("calls", Torch.Zeros([1]));
        }

        public override Tensor Forward(Tensor input)
        {
            using var scope = Torch.NewDisposeScope();
            return conv2.Forward(conv1.Forward(input).ReLU()).Mul(scale).MoveToOuterScope();
        }
    }

    private sealed class Net : Module
    {
        public Net()
        {
            RegisterModule("stem", new Linear(3, 4));
            RegisterModule("block", new Block(4));
            RegisterModule("head", new Sequential(new ReLU(), new Linear(4, 2)));
        }

        public override Tensor Forward(Tensor input)
        {
            var x = input;
            foreach (var (_, child) in NamedChildren())
            {
                var next = child.Forward(x);
                if (!ReferenceEquals(x, input)) x.Dispose();
                x = next;
            }
            return x;
        }
    }

    private sealed class NoForward : Module;

    [Fact]
    public void NamedParameters_OfNestedCustomModule_UseDottedPyTorchNames()
    {
        using var net = new Net();
        Assert.Equal(
            ["stem.weight", "stem.bias", "block.scale", "block.conv1.weight", "block.conv1.bias", "block.conv2.weight", "head.1.weight", "head.1.bias"],
            net.NamedParameters().Select(p => p.Name));
        Assert.Equal(["block.calls"], net.NamedBuffers().Select(b => b.Name));
        Assert.Equal(["stem", "block", "head"], net.NamedChildren().Select(c => c.Name));
        Assert.Equal(["", "stem", "block", "block.conv1", "block.conv2", "head", "head.0", "head.1"], net.NamedModules().Select(m => m.Name));
        Assert.Equal(["stem.weight", "stem.bias", "block.scale", "block.calls", "block.conv1.weight", "block.conv1.bias", "block.conv2.weight", "head.1.weight", "head.1.bias"],
            net.StateDict().Keys);
        Assert.Equal(12 + 4 + 4 + 16 + 4 + 16 + 8 + 2, net.ParameterCount());
        Assert.All(net.Parameters(), p => Assert.True(p.RequiresGrad));
    }

    [Fact]
    public void Sequential_NamesChildrenByPosition_AndBatchNormHasPyTorchBuffers()
    {
        using var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new ReLU());
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias"], model.NamedParameters().Select(p => p.Name));
        Assert.Equal(["1.running_mean", "1.running_var", "1.num_batches_tracked"], model.NamedBuffers().Select(b => b.Name));
        Assert.Equal(3, model.Layers.Count);
    }

    [Fact]
    public void Parameters_AreOwnedCachedObjects_ThatSurviveDisposeScopesAndTo()
    {
        using var model = TinyMlp();
        IReadOnlyList<Tensor> first;
        using (Torch.NewDisposeScope()) first = model.Parameters();
        Assert.All(first, p => Assert.False(p.IsDisposed));
        var second = model.To(Device.Cpu).Parameters();
        Assert.Equal(first.Count, second.Count);
        for (int i = 0; i < first.Count; i++) Assert.Same(first[i], second[i]);
        Assert.Equal(Device.Cpu, first[0].Device);
    }

    [Fact]
    public void Dispose_DisposesChildrenAndOwnedTensors()
    {
        var linear = new Linear(2, 2);
        var model = new Sequential(linear);
        var parameters = model.Parameters();
        model.Dispose();
        Assert.All(parameters, p => Assert.True(p.IsDisposed));
        Assert.Throws<ObjectDisposedException>(() => linear.Parameters());
        model.Dispose(); // idempotent
    }

    [Fact]
    public void TrainAndEval_RecurseIntoChildren()
    {
        using var net = new Net();
        Assert.True(net.IsTraining);
        net.Eval();
        Assert.All(net.NamedModules(), m => Assert.False(m.Module.IsTraining));
        net.Train();
        Assert.All(net.NamedModules(), m => Assert.True(m.Module.IsTraining));
    }

    [Fact]
    public void Eval_MakesDropoutInsideCustomModuleDeterministic()
    {
        Torch.ManualSeed(11);
        using var model = new Sequential(new Linear(8, 8), new Dropout(0.5));
        using var scope = Torch.NewDisposeScope();
        var input = Torch.Randn(4, 8);
        Assert.NotEqual(model.Forward(input).ToArray<float>(), model.Forward(input).ToArray<float>());
        model.Eval();
        Assert.Equal(model.Forward(input).ToArray<float>(), model.Forward(input).ToArray<float>());
    }

    [Fact]
    public void RegisterModule_RejectsDuplicateAndDottedNames()
    {
        Assert.Throws<ArgumentException>(() => new Duplicate());
        Assert.Throws<ArgumentException>(() => new Dotted());
    }

    private sealed class Duplicate : Module
    {
        public Duplicate()
        {
            RegisterModule("a", new ReLU());
            RegisterParameter("a", Torch.Zeros([1]));
        }
    }

    private sealed class Dotted : Module
    {
        public Dotted() => RegisterModule("a.b", new ReLU());
    }

    [Fact]
    public void Forward_NotOverriddenInCustomModule_Throws()
    {
        using var module = new NoForward();
        using var input = Torch.Zeros([1]);
        Assert.Throws<NotImplementedException>(() => module.Forward(input));
    }

    [Fact]
    public void ZeroGrad_DropsEveryGradient()
    {
        using var net = new Net();
        using var scope = Torch.NewDisposeScope();
        net.Forward(Torch.Randn(5, 3)).Sum().Backward();
        Assert.All(net.Parameters(), p => Assert.NotNull(p.Grad));
        net.ZeroGrad();
        Assert.All(net.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void ResidualStack_Trains_LossDropsAndFirstLayerGetsGradients()
    {
        Torch.ManualSeed(21);
        var (x, y) = TestData.Blobs(120);
        using var model = new Sequential(
            new Linear(2, 16),
            new Residual(new Sequential(new LayerNorm(16), new Linear(16, 16), new GELU(), new Linear(16, 16))),
            new Residual(new Sequential(new BatchNorm1d(16), new Linear(16, 16), new ReLU(), new Linear(16, 16))),
            new ReLU(),
            new Linear(16, 3));
        Assert.Contains("1.inner.1.weight", model.StateDict().Keys);
        Assert.Contains("2.inner.0.num_batches_tracked", model.StateDict().Keys);
        using var optimizer = new Adam(model.Parameters(), lr: 0.01);
        using var scope = Torch.NewDisposeScope();
        var inputs = Torch.Tensor(x, 120, 2);
        var targets = Torch.Tensor(y, 120);
        float first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            model.ZeroGrad();
            var loss = Functional.CrossEntropy(model.Forward(inputs), targets);
            if (step == 0)
            {
                first = loss.Item<float>();
                loss.Backward();
                var firstWeight = model.NamedParameters().Single(p => p.Name == "0.weight").Parameter;
                Assert.Contains(firstWeight.Grad!.ToArray<float>(), g => g != 0f);
            }
            else
            {
                last = loss.Item<float>();
                loss.Backward();
            }
            optimizer.Step();
        }
        Assert.True(last < first / 2, $"loss {first} -> {last}");
    }

    [Fact]
    public void TinyMlp_TrainedWithAdamOnSeparableBlobs_ExceedsNinetyFivePercentAccuracy()
    {
        Torch.ManualSeed(1);
        var (x, y) = TestData.Blobs(300);
        using var model = TinyMlp();
        using var optimizer = new Adam(model.Parameters(), lr: 0.05);
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
        using var optimizer = new SGD(model.Parameters(), lr: 0.1, momentum: 0.9);
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
    public void DisposedParameterOfLeaf_IsReAliasedOnNextAccess()
    {
        // Older callers disposed what Parameters() returned; the leaf must keep working.
        using var layer = new Linear(2, 2);
        using var optimizer = new SGD(layer.Parameters(), lr: 0.1);
        foreach (var p in layer.Parameters()) p.Dispose();
        var again = layer.Parameters();
        Assert.All(again, p => Assert.False(p.IsDisposed));
        using var scope = Torch.NewDisposeScope();
        layer.Forward(Torch.Ones([1, 2])).Sum().Backward();
        Assert.NotNull(again[0].Grad);
    }
}
