using ModelOps.Engine.Models;
using static TorchSharp.torch;

namespace ModelOps.Engine.Training;

/// <summary>One split as tensors: encoded features and class ids (int64) or standardized targets (float32).</summary>
internal sealed class SplitTensors(Tensor features, Tensor labels) : IDisposable
{
    public Tensor Features { get; private set; } = features;
    public Tensor Labels { get; private set; } = labels;
    public int Count => (int)Labels.shape[0];

    public void MoveTo(Device device)
    {
        if (Features.device == device) return;
        var (movedFeatures, movedLabels) = (Features.to(device), Labels.to(device));
        Dispose();
        (Features, Labels) = (movedFeatures, movedLabels);
    }

    /// <summary>The given rows, copied, on the same device.</summary>
    public SplitTensors Subset(IReadOnlyList<int> rows)
    {
        using var index = tensor(rows.Select(r => (long)r).ToArray(), device: Features.device);
        return new SplitTensors(Features.index_select(0, index), Labels.index_select(0, index));
    }

    public static SplitTensors Concat(SplitTensors first, SplitTensors second) =>
        new(cat([first.Features, second.Features], 0), cat([first.Labels, second.Labels], 0));

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
