using ModelOps.Engine.NN;

namespace ModelOps.Engine.Models;

/// <summary>
/// The network architectures a run can choose by name. A package records the name, the schema and the
/// <see cref="ModelArchitecture"/>, so the same network is rebuilt to load its weights.
/// </summary>
public static class ModelTemplates
{
    public const string Mlp = "mlp";
    public const string Cnn = "cnn";
    public const string TextLstm = "text-lstm";
    public const string TextCnn = "text-cnn";

    public static IReadOnlyList<string> Names { get; } = [Mlp, Cnn, TextLstm, TextCnn];

    /// <summary>The templates that can read a dataset of the given input kind, the usual choice first.</summary>
    public static IReadOnlyList<string> For(string inputKind) => inputKind switch
    {
        ModelSchema.Tabular => [Mlp],
        ModelSchema.Image => [Cnn, Mlp],
        ModelSchema.Text => [TextLstm, TextCnn],
        _ => [],
    };

    public static Module Build(ModelSchema schema)
    {
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
            _ => throw new ArgumentException($"unknown template '{schema.Template}' (expected one of: {string.Join(", ", Names)})"),
        };
    }

    /// <summary>Hidden layers of Linear, [BatchNorm1d], ReLU, [Dropout], then the output layer.</summary>
    internal static Sequential BuildMlp(int inputs, int outputs, ModelArchitecture a, bool flatten)
    {
        var net = new Sequential();
        if (flatten) net.Add(new Flatten());
        AddHidden(net, inputs, a);
        return net.Add(new Linear(a.HiddenLayers.Length == 0 ? inputs : a.HiddenLayers[^1], outputs));
    }

    internal static void AddHidden(Sequential net, int inputs, ModelArchitecture a)
    {
        int width = inputs;
        foreach (int hidden in a.HiddenLayers)
        {
            net.Add(new Linear(width, hidden));
            if (a.BatchNorm) net.Add(new BatchNorm1d(hidden));
            net.Add(new ReLU());
            if (a.Dropout > 0) net.Add(new Dropout(a.Dropout));
            width = hidden;
        }
    }

    /// <summary>
    /// ConvBlocks x (conv 3x3, [batch norm], ReLU, max-pool 2) with ConvWidth channels doubling per block,
    /// then Linear(., 128), ReLU, Dropout, Linear(., outputs). Two blocks of 32 and 64 is the classic
    /// Fashion-MNIST network of the dataset's benchmark table.
    /// </summary>
    internal static Sequential BuildCnn(int[] shape, int outputs, ModelArchitecture a)
    {
        int channels = shape[0], height = shape[1], width = shape[2];
        var net = new Sequential();
        int inChannels = channels, outChannels = a.ConvWidth;
        for (int b = 0; b < a.ConvBlocks; b++)
        {
            if (height < 2 || width < 2)
                throw new ArgumentException($"{a.ConvBlocks} conv blocks halve {shape[1]}x{shape[2]} images below one pixel: use fewer blocks");
            net.Add(new Conv2d(inChannels, outChannels, 3, padding: 1, bias: !a.BatchNorm));
            if (a.BatchNorm) net.Add(new BatchNorm2d(outChannels));
            net.Add(new ReLU()).Add(new MaxPool2d(2));
            height /= 2;
            width /= 2;
            inChannels = outChannels;
            outChannels *= 2;
        }
        net.Add(new Flatten())
           .Add(new Linear((long)inChannels * height * width, 128)).Add(new ReLU());
        if (a.Dropout > 0) net.Add(new Dropout(a.Dropout));
        return net.Add(new Linear(128, outputs));
    }
}

/// <summary>
/// Tabular input whose categorical columns are embedding ids: the numeric slots and one embedding per
/// categorical column are concatenated and fed to the hidden layers.
/// </summary>
internal sealed class TabularEmbeddingNet : Module
{
    private readonly long[] numericSlots;
    private readonly int[] categoricalSlots;
    // The numeric slots as an index tensor, made once per device rather than on every forward.
    private Tensor? numericIndex;
    private readonly Embedding[] embeddings;
    private readonly Sequential body;

    public TabularEmbeddingNet(ModelSchema schema, int outputs)
    {
        var a = schema.Architecture;
        var numeric = new List<int>();
        var categorical = new List<int>();
        var embeddingList = new List<Embedding>();
        int slot = 0, width = 0;
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
                int dim = Math.Min(a.EmbeddingDim, ((f.Categories?.Count ?? 0) + 1) / 2 + 1);
                var embedding = new Embedding((f.Categories?.Count ?? 0) + 1, dim);
                RegisterModule($"embedding_{embeddingList.Count}", embedding);
                embeddingList.Add(embedding);
                width += dim;
            }
            slot++;
        }
        numericSlots = numeric.Select(n => (long)n).ToArray();
        categoricalSlots = categorical.ToArray();
        embeddings = embeddingList.ToArray();
        body = ModelTemplates.BuildMlp(width, outputs, a, flatten: false);
        RegisterModule("body", body);
    }

    public override Tensor Forward(Tensor input)
    {
        var parts = new List<Tensor>(embeddings.Length + 1);
        if (numericSlots.Length > 0)
        {
            if (numericIndex is null || numericIndex.Device != input.Device)
            {
                numericIndex?.Dispose();
                using var cpu = Torch.Tensor(numericSlots, numericSlots.Length);
                numericIndex = cpu.To(input.Device).DetachFromDisposeScope();
            }
            parts.Add(input.IndexSelect(1, numericIndex));
        }
        for (int i = 0; i < embeddings.Length; i++)
        {
            var ids = input.Select(1, categoricalSlots[i]).To(ScalarType.Int64);
            parts.Add(embeddings[i].Forward(ids));
        }
        return body.Forward(Torch.Cat(parts, 1));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) numericIndex?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Embedding, bidirectional LSTM, max over time, dropout, linear.</summary>
internal sealed class TextLstmNet : Module
{
    private readonly Embedding embedding;
    private readonly LSTM lstm;
    private readonly Dropout dropout;
    private readonly Linear output;

    public TextLstmNet(int vocabulary, int outputs, ModelArchitecture a)
    {
        embedding = new Embedding(vocabulary, a.EmbeddingDim, paddingIdx: 0);
        lstm = new LSTM(a.EmbeddingDim, a.HiddenSize, bidirectional: true, batchFirst: true);
        dropout = new Dropout(a.Dropout);
        output = new Linear(2L * a.HiddenSize, outputs);
        RegisterModule("embedding", embedding);
        RegisterModule("lstm", lstm);
        RegisterModule("dropout", dropout);
        RegisterModule("output", output);
    }

    public override Tensor Forward(Tensor input)
    {
        var sequence = lstm.Forward(embedding.Forward(input));   // [N, T, 2H]
        var pooled = sequence.Max(1, false).Values;                  // [N, 2H]
        return output.Forward(dropout.Forward(pooled));
    }
}

/// <summary>Embedding, 1-D convolutions of widths 3, 4 and 5, max over time, dropout, linear (Kim, 2014).</summary>
internal sealed class TextCnnNet : Module
{
    internal static readonly int[] KernelSizes = [3, 4, 5];
    private readonly Embedding embedding;
    private readonly Conv1d[] convolutions;
    private readonly Dropout dropout;
    private readonly Linear output;

    public TextCnnNet(int vocabulary, int outputs, ModelArchitecture a)
    {
        embedding = new Embedding(vocabulary, a.EmbeddingDim, paddingIdx: 0);
        RegisterModule("embedding", embedding);
        convolutions = KernelSizes.Select(k => new Conv1d(a.EmbeddingDim, a.HiddenSize, k)).ToArray();
        for (int i = 0; i < convolutions.Length; i++) RegisterModule($"conv{KernelSizes[i]}", convolutions[i]);
        dropout = new Dropout(a.Dropout);
        output = new Linear((long)a.HiddenSize * KernelSizes.Length, outputs);
        RegisterModule("dropout", dropout);
        RegisterModule("output", output);
    }

    public override Tensor Forward(Tensor input)
    {
        var embedded = embedding.Forward(input).Transpose(1, 2);  // [N, E, T]
        var pooled = convolutions.Select(c => c.Forward(embedded).ReLU().Max(2, false).Values).ToList();
        return output.Forward(dropout.Forward(Torch.Cat(pooled, 1)));
    }
}
