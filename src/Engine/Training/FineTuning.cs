using ModelOps.Engine.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ModelOps.Engine.Training;

/// <summary>
/// A registered model to start from: its schema decides the template, the architecture and the input
/// encoding of the new run; its weights initialise every layer whose name and shape still fit (all but
/// a classifier head whose classes changed); optionally all but the last N layers stay frozen.
/// </summary>
internal sealed class FineTuneParent : IDisposable
{
    private FineTuneParent(string path, ModelSchema schema, nn.Module<Tensor, Tensor> model) => (Path, Schema, Model) = (path, schema, model);

    public string Path { get; }
    public ModelSchema Schema { get; }
    public nn.Module<Tensor, Tensor> Model { get; }

    public static FineTuneParent Load(string modelPackagePath)
    {
        var (schema, weights) = ModelPackage.Read(modelPackagePath);
        return new FineTuneParent(modelPackagePath, schema, Predictor.BuildLoaded(modelPackagePath, schema, weights));
    }

    /// <summary>The run's options with the parent's network: the template and shape are the parent's, whatever the run asked for.</summary>
    public TrainingOptions Adopt(TrainingOptions options)
    {
        if (options.Task != Schema.Task)
            throw new ArgumentException($"the model to fine-tune does {Schema.Task}, but this run asks for {options.Task}");
        return options.WithNetworkOf(Schema);
    }

    /// <summary>
    /// Copies the parent's weights into <paramref name="model"/>; returns the names that kept fresh weights.
    /// The output layer is copied only when the classes are the parent's, in the same order: with other
    /// classes its rows would score the wrong ones, even where their number (and so its shape) is the same.
    /// </summary>
    public IReadOnlyList<string> Initialise(nn.Module model, ModelSchema schema)
    {
        IReadOnlyList<string> head = [];
        if (!Schema.ClassNames.SequenceEqual(schema.ClassNames, StringComparer.Ordinal))
        {
            var (name, layer) = ModelTemplates.WeightedLayers(model)[^1];
            head = layer.named_parameters().Select(p => $"{name}.{p.name}").ToArray();
        }
        return ModuleState.CopyMatching(Model, model, head);
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>Freezing for fine-tuning: what trains and what stays as the parent left it.</summary>
internal static class Freezing
{
    /// <summary>
    /// Turns off gradients for every weighted layer but the last <paramref name="trainableLayers"/> (0: none
    /// frozen). Returns the frozen batch-norm layers, which must also stay in evaluation mode so their
    /// running statistics keep the parent's values.
    /// </summary>
    public static (int Frozen, IReadOnlyList<nn.Module> FrozenNorms) Apply(nn.Module model, int trainableLayers)
    {
        if (trainableLayers <= 0) return (0, []);
        var layers = ModelTemplates.WeightedLayers(model);
        int frozen = Math.Max(0, layers.Count - trainableLayers);
        var norms = new List<nn.Module>();
        foreach (var (_, layer) in layers.Take(frozen))
        {
            foreach (var p in layer.parameters()) p.requires_grad = false;
            if (layer is BatchNorm1d or BatchNorm2d) norms.Add(layer);
        }
        return (frozen, norms);
    }
}
