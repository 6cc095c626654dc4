using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ModelOps.Engine.Models;

/// <summary>
/// The network architectures a run can choose by name, built from TorchSharp's modules. A package
/// records the name, the schema and the <see cref="ModelArchitecture"/>, so the same network is rebuilt
/// to load its weights. Parameter names follow PyTorch's (<c>0.weight</c>, <c>lstm.weight_ih_l0_reverse</c>),
/// the same names the engine before TorchSharp wrote, so its packages load into these modules.
/// </summary>
public static class ModelTemplates
{
    public const string Mlp = "mlp";
    public const string Cnn = "cnn";
    public const string TextLstm = "text-lstm";
    public const string TextCnn = "text-cnn";
    public const string TextTransformer = "text-transformer";

    public static IReadOnlyList<string> Names { get; } = [Mlp, Cnn, TextLstm, TextCnn, TextTransformer];

    /// <summary>The templates that can read a dataset of the given input kind, the usual choice first.</summary>
    public static IReadOnlyList<string> For(string inputKind) => inputKind switch
    {
        ModelSchema.Tabular => [Mlp],
        ModelSchema.Image => [Cnn, Mlp],
        ModelSchema.Text => [TextLstm, TextCnn, TextTransformer],
        _ => [],
    };

    public static bool IsText(string template) => template is TextLstm or TextCnn or TextTransformer;

    /// <summary>Builds the untrained network for a schema, on the CPU.</summary>
    public static nn.Module<Tensor, Tensor> Build(ModelSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        NativeBackend.EnsureLoaded();
        var a = schema.Architecture;
        int outputs = schema.OutputCount;
        if (!For(schema.InputKind).Contains(schema.Template))
            throw new ArgumentException($"the '{schema.Template}' template cannot read {schema.InputKind} input (it fits: {string.Join(", ", For(schema.InputKind))})");
        return schema.Template switch
        {
            Mlp when schema.InputKind == ModelSchema.Image => BuildMlp(schema.PixelCount, outputs, a, flatten: true),
            Mlp when schema.CategoricalEncoding == "embedding" && schema.Features.Any(f => f.Kind == FeatureKind.Categorical)
                => new TabularEmbeddingNet(schema, outputs),
            Mlp => BuildMlp(schema.EncodedWidth, outputs, a, flatten: false),
            Cnn => BuildCnn(schema.ImageShape!, outputs, a),
            TextLstm => new TextLstmNet(schema.Vocabulary!.Count, outputs, a),
            TextCnn => new TextCnnNet(schema.Vocabulary!.Count, outputs, a),
            TextTransformer => new TextTransformerNet(schema.Vocabulary!.Count, schema.MaxTokens, outputs, a),
            _ => throw new ArgumentException($"unknown template '{schema.Template}' (expected one of: {string.Join(", ", Names)})"),
        };
    }

    /// <summary>Hidden layers of Linear, [BatchNorm1d], ReLU, [Dropout], then the output layer.</summary>
    internal static Sequential BuildMlp(long inputs, int outputs, ModelArchitecture a, bool flatten)
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        if (flatten) layers.Add(nn.Flatten());
        long width = inputs;
        foreach (int hidden in a.HiddenLayers)
        {
            layers.Add(nn.Linear(width, hidden));
            if (a.BatchNorm) layers.Add(nn.BatchNorm1d(hidden));
            layers.Add(nn.ReLU());
            if (a.Dropout > 0) layers.Add(nn.Dropout(a.Dropout));
            width = hidden;
        }
        layers.Add(nn.Linear(width, outputs));
        return nn.Sequential(layers);
    }

    /// <summary>
    /// ConvBlocks x (conv 3x3, [batch norm], ReLU, max-pool 2) with ConvWidth channels doubling per block,
    /// then Linear(., 128), ReLU, Dropout, Linear(., outputs). Two blocks of 32 and 64 is the classic
    /// Fashion-MNIST network of the dataset's benchmark table.
    /// </summary>
    internal static Sequential BuildCnn(int[] shape, int outputs, ModelArchitecture a)
    {
        int channels = shape[0], height = shape[1], width = shape[2];
        var layers = new List<nn.Module<Tensor, Tensor>>();
        long inChannels = channels, outChannels = a.ConvWidth;
        for (int b = 0; b < a.ConvBlocks; b++)
        {
            if (height < 2 || width < 2)
                throw new ArgumentException($"{a.ConvBlocks} conv blocks halve {shape[1]}x{shape[2]} images below one pixel: use fewer blocks");
            layers.Add(nn.Conv2d(inChannels, outChannels, 3, padding: 1, bias: !a.BatchNorm));
            if (a.BatchNorm) layers.Add(nn.BatchNorm2d(outChannels));
            layers.Add(nn.ReLU());
            layers.Add(nn.MaxPool2d(2));
            height /= 2;
            width /= 2;
            inChannels = outChannels;
            outChannels *= 2;
        }
        layers.Add(nn.Flatten());
        layers.Add(nn.Linear(inChannels * height * width, 128));
        layers.Add(nn.ReLU());
        if (a.Dropout > 0) layers.Add(nn.Dropout(a.Dropout));
        layers.Add(nn.Linear(128, outputs));
        return nn.Sequential(layers);
    }

    /// <summary>
    /// The network's layers for fine-tuning: the leaf modules that own parameters (an encoder layer counts
    /// as one), depth first in registration order, which is the order data flows through them.
    /// TorchSharp's <c>named_modules</c> lists a module's children before its grandchildren, which would put
    /// a transformer's output layer before its encoder layers; hence the walk here.
    /// </summary>
    internal static IReadOnlyList<(string Name, nn.Module Module)> WeightedLayers(nn.Module model)
    {
        var layers = new List<(string, nn.Module)>();
        void Visit(string prefix, nn.Module module)
        {
            foreach (var (name, child) in module.named_children())
            {
                string path = prefix.Length == 0 ? name : $"{prefix}.{name}";
                if (child.named_children().Any() && child is not TransformerEncoderLayer) Visit(path, child);
                else if (child.parameters().Any()) layers.Add((path, child));
            }
        }
        Visit("", model);
        return layers;
    }
}

/// <summary>
/// Tabular input whose categorical columns are embedding ids: the numeric slots and one embedding per
/// categorical column are concatenated and fed to the hidden layers.
/// </summary>
internal sealed class TabularEmbeddingNet : nn.Module<Tensor, Tensor>
{
    private readonly long[] numericSlots;
    private readonly int[] categoricalSlots;
    // The numeric slots as an index tensor, made once per device rather than on every forward.
    private Tensor? numericIndex;
    private readonly Embedding[] embeddings;
    private readonly Sequential body;

    public TabularEmbeddingNet(ModelSchema schema, int outputs) : base(nameof(TabularEmbeddingNet))
    {
        var a = schema.Architecture;
        var numeric = new List<long>();
        var categorical = new List<int>();
        var embeddingList = new List<Embedding>();
        int slot = 0;
        long width = 0;
        foreach (var f in schema.Features)
        {
            if (f.Kind == FeatureKind.Numeric)
            {
                numeric.Add(slot);
                width += 1;
            }
            else
            {
                categorical.Add(slot);
                // Small categories need few dimensions: min(EmbeddingDim, (categories + 1) / 2 + 1).
                int categories = f.Categories?.Count ?? 0;
                int dim = Math.Min(a.EmbeddingDim, (categories + 1) / 2 + 1);
                var embedding = nn.Embedding(categories + 1, dim);
                register_module($"embedding_{embeddingList.Count}", embedding);
                embeddingList.Add(embedding);
                width += dim;
            }
            slot++;
        }
        numericSlots = numeric.ToArray();
        categoricalSlots = categorical.ToArray();
        embeddings = embeddingList.ToArray();
        body = ModelTemplates.BuildMlp(width, outputs, a, flatten: false);
        register_module("body", body);
    }

    public override Tensor forward(Tensor input)
    {
        var parts = new List<Tensor>(embeddings.Length + 1);
        if (numericSlots.Length > 0)
        {
            if (numericIndex is null || numericIndex.device != input.device)
            {
                numericIndex?.Dispose();
                numericIndex = tensor(numericSlots, device: input.device).DetachFromDisposeScope();
            }
            parts.Add(input.index_select(1, numericIndex));
        }
        for (int i = 0; i < embeddings.Length; i++)
            parts.Add(embeddings[i].call(input.select(1, categoricalSlots[i]).to(ScalarType.Int64)));
        return body.call(cat(parts, 1));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) numericIndex?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Embedding, bidirectional LSTM, max over time, dropout, linear.</summary>
internal sealed class TextLstmNet : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embedding;
    private readonly LSTM lstm;
    private readonly Dropout dropout;
    private readonly Linear output;

    public TextLstmNet(int vocabulary, int outputs, ModelArchitecture a) : base(nameof(TextLstmNet))
    {
        embedding = nn.Embedding(vocabulary, a.EmbeddingDim, padding_idx: 0);
        lstm = nn.LSTM(a.EmbeddingDim, a.HiddenSize, batchFirst: true, bidirectional: true);
        dropout = nn.Dropout(a.Dropout);
        output = nn.Linear(2L * a.HiddenSize, outputs);
        register_module("embedding", embedding);
        register_module("lstm", lstm);
        register_module("dropout", dropout);
        register_module("output", output);
    }

    public override Tensor forward(Tensor input)
    {
        var (sequence, _, _) = lstm.call(embedding.call(input));   // [N, T, 2H]
        var pooled = sequence.max(1).values;                       // [N, 2H]
        return output.call(dropout.call(pooled));
    }
}

/// <summary>Embedding, 1-D convolutions of widths 3, 4 and 5, max over time, dropout, linear (Kim, 2014).</summary>
internal sealed class TextCnnNet : nn.Module<Tensor, Tensor>
{
    internal static readonly int[] KernelSizes = [3, 4, 5];
    private readonly Embedding embedding;
    private readonly Conv1d[] convolutions;
    private readonly Dropout dropout;
    private readonly Linear output;

    public TextCnnNet(int vocabulary, int outputs, ModelArchitecture a) : base(nameof(TextCnnNet))
    {
        embedding = nn.Embedding(vocabulary, a.EmbeddingDim, padding_idx: 0);
        register_module("embedding", embedding);
        convolutions = KernelSizes.Select(k => nn.Conv1d(a.EmbeddingDim, a.HiddenSize, k)).ToArray();
        for (int i = 0; i < convolutions.Length; i++) register_module($"conv{KernelSizes[i]}", convolutions[i]);
        dropout = nn.Dropout(a.Dropout);
        output = nn.Linear((long)a.HiddenSize * KernelSizes.Length, outputs);
        register_module("dropout", dropout);
        register_module("output", output);
    }

    public override Tensor forward(Tensor input)
    {
        var embedded = embedding.call(input).transpose(1, 2);  // [N, E, T]
        var pooled = convolutions.Select(c => nn.functional.relu(c.call(embedded)).max(2).values).ToList();
        return output.call(dropout.call(cat(pooled, 1)));
    }
}

/// <summary>
/// Token and learned position embeddings, N encoder layers of multi-head self-attention and a
/// feed-forward block (post-norm, as PyTorch's TransformerEncoderLayer), mean pooling over the
/// non-padding tokens, dropout, linear. Padding (id 0) is masked out of attention and pooling.
/// </summary>
internal sealed class TextTransformerNet : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly Embedding positions;
    private readonly ModuleList<TransformerEncoderLayer> layers;
    private readonly Dropout dropout;
    private readonly Linear output;
    private readonly double scale;

    public TextTransformerNet(int vocabulary, int maxTokens, int outputs, ModelArchitecture a) : base(nameof(TextTransformerNet))
    {
        tokens = nn.Embedding(vocabulary, a.EmbeddingDim, padding_idx: 0);
        positions = nn.Embedding(Math.Max(1, maxTokens), a.EmbeddingDim);
        layers = new ModuleList<TransformerEncoderLayer>();
        for (int i = 0; i < a.TransformerLayers; i++)
            layers.Add(nn.TransformerEncoderLayer(a.EmbeddingDim, a.AttentionHeads, a.HiddenSize, a.Dropout));
        dropout = nn.Dropout(a.Dropout);
        output = nn.Linear(a.EmbeddingDim, outputs);
        scale = Math.Sqrt(a.EmbeddingDim);
        register_module("token_embedding", tokens);
        register_module("position_embedding", positions);
        register_module("layers", layers);
        register_module("dropout", dropout);
        register_module("output", output);
    }

    public override Tensor forward(Tensor input)
    {
        long length = input.shape[1];
        var padding = input.eq(0);                                               // [N, T], true at padding
        // A text with no known token would leave attention nothing to look at (NaN): keep its first position.
        var empty = padding.all(1, keepdim: true);
        var firstPosition = arange(length, device: input.device).eq(0).unsqueeze(0);
        padding = padding.logical_and(empty.logical_and(firstPosition).logical_not());
        var positionIds = arange(length, device: input.device).unsqueeze(0);
        var x = tokens.call(input) * scale + positions.call(positionIds);        // [N, T, E]
        x = x.transpose(0, 1);                                                   // [T, N, E]
        foreach (var layer in layers) x = layer.call(x, null!, padding);
        x = x.transpose(0, 1);                                                   // [N, T, E]
        var keep = padding.logical_not().unsqueeze(2).to(x.dtype);                // [N, T, 1]
        var pooled = (x * keep).sum(1) / keep.sum(1).clamp_min(1);
        return output.call(dropout.call(pooled));
    }
}
