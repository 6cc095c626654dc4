using ModelOps.Engine.Models;

namespace ModelOps.Engine.Training;

/// <summary>One split as tensors: encoded features and int64 class ids.</summary>
internal sealed class SplitTensors(Tensor features, Tensor labels, int count) : IDisposable
{
    public Tensor Features { get; private set; } = features;
    public Tensor Labels { get; private set; } = labels;
    public int Count { get; } = count;

    public void MoveTo(Device device)
    {
        if (device == Device.Cpu) return;
        var (features, labels) = (Features.To(device).DetachFromDisposeScope(), Labels.To(device).DetachFromDisposeScope());
        Dispose();
        (Features, Labels) = (features, labels);
    }

    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
    }
}

/// <summary>A dataset encoded for training, with the schema (normalization included) learned from its training split.</summary>
internal sealed class PreparedDataset(ModelSchema schema, SplitTensors train, SplitTensors validation, SplitTensors test) : IDisposable
{
    public ModelSchema Schema { get; } = schema;
    public SplitTensors Train { get; } = train;
    public SplitTensors Validation { get; } = validation;
    public SplitTensors Test { get; } = test;

    public void MoveTo(Device device)
    {
        Train.MoveTo(device);
        Validation.MoveTo(device);
        Test.MoveTo(device);
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }
}
