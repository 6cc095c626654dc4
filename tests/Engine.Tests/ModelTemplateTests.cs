using ModelOps.Engine.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelOps.Engine.Tests;

/// <summary>Every template builds from a schema, gives one output per class and names its tensors as PyTorch does.</summary>
public class ModelTemplateTests
{
    private static readonly string[] Classes = ["a", "b", "c"];

    private static ModelSchema Tabular(string encoding = "onehot", string task = "classification") => new("mlp", ModelSchema.Tabular,
        [
            new FeatureSchema("x1", FeatureKind.Numeric, null),
            new FeatureSchema("x2", FeatureKind.Numeric, null),
            new FeatureSchema("color", FeatureKind.Categorical, ["blue", "green", "red"]),
        ], task == "regression" ? [] : Classes, null)
    {
        Task = task,
        CategoricalEncoding = encoding,
        Architecture = new ModelArchitecture { HiddenLayers = [16, 8], BatchNorm = true, Dropout = 0.1, EmbeddingDim = 4 },
    };

    private static ModelSchema Image(string template, int channels, int size, ModelArchitecture architecture) =>
        new(template, ModelSchema.Image, [], Classes, [channels, size, size]) { Architecture = architecture };

    private static ModelSchema Text(string template, int vocabulary = 30, int maxTokens = 12) =>
        new(template, ModelSchema.Text, [], ["neg", "pos"], null)
        {
            Vocabulary = ["<pad>", "<unk>", .. Enumerable.Range(0, vocabulary - 2).Select(i => $"w{i}")],
            MaxTokens = maxTokens,
            Architecture = new ModelArchitecture { EmbeddingDim = 16, HiddenSize = 8, TransformerLayers = 2, AttentionHeads = 4, Dropout = 0.1 },
        };

    /// <summary>
    /// Each state tensor as "name [shape]", in name order: tensors are saved, loaded and exported by name
    /// (TorchSharp lists parameters before buffers, PyTorch module by module; neither order matters).
    /// </summary>
    private static string[] State(nn.Module model) => Described(model.state_dict().Select(p => (p.Key, p.Value.shape)));

    private static string[] Described(IEnumerable<(string Name, long[] Shape)> tensors) =>
        tensors.Select(t => $"{t.Name} [{string.Join(", ", t.Shape)}]").Order(StringComparer.Ordinal).ToArray();

    private static long[] OutputShape(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        using var scope = NewDisposeScope();
        model.eval();
        using var noGrad = no_grad();
        return model.call(input).shape;
    }

    [Fact]
    public void Mlp_OnOneHotTable_IsLinearBatchNormReluDropoutPerLayer()
    {
        using var model = ModelTemplates.Build(Tabular());
        // x1, x2 and three one-hot slots for color: 5 inputs; Sequential children are named by position.
        Assert.Equal(Described([
            ("0.weight", [16, 5]), ("0.bias", [16]),
            ("1.weight", [16]), ("1.bias", [16]), ("1.running_mean", [16]), ("1.running_var", [16]), ("1.num_batches_tracked", []),
            ("4.weight", [8, 16]), ("4.bias", [8]),
            ("5.weight", [8]), ("5.bias", [8]), ("5.running_mean", [8]), ("5.running_var", [8]), ("5.num_batches_tracked", []),
            ("8.weight", [3, 8]), ("8.bias", [3]),
        ]), State(model));
        Assert.Equal([7, 3], OutputShape(model, randn(7, 5)));
    }

    [Fact]
    public void Mlp_ForRegression_HasOneOutput()
    {
        using var model = ModelTemplates.Build(Tabular(task: "regression"));
        Assert.Equal([4, 1], OutputShape(model, randn(4, 5)));
        Assert.Equal([1, 8], model.state_dict()["8.weight"].shape);
    }

    [Fact]
    public void Mlp_WithCategoricalEmbedding_EmbedsEachCategoryIdBeforeTheHiddenLayers()
    {
        var schema = Tabular(encoding: "embedding");
        using var model = ModelTemplates.Build(schema);
        // Three categories and the unknown id 0; min(EmbeddingDim 4, (3 + 1) / 2 + 1) = 3 dimensions.
        Assert.Equal([4, 3], model.state_dict()["embedding_0.weight"].shape);
        Assert.Equal([16, 2 + 3], model.state_dict()["body.0.weight"].shape);
        Assert.Equal([3, 8], model.state_dict()["body.8.weight"].shape);
        Assert.Equal(3, schema.EncodedWidth); // x1, x2 and one id
        using var input = tensor(new float[] { 0.5f, -1, 3, 0, 0, 0 }, [2, 3]);
        Assert.Equal([2, 3], OutputShape(model, input));
    }

    [Fact]
    public void Mlp_OnImages_FlattensThePixelsFirst()
    {
        using var model = ModelTemplates.Build(Image("mlp", 1, 28, new ModelArchitecture { HiddenLayers = [32], BatchNorm = false, Dropout = 0 }));
        Assert.Equal(Described([("1.weight", [32, 784]), ("1.bias", [32]), ("3.weight", [3, 32]), ("3.bias", [3])]), State(model));
        Assert.Equal([2, 3], OutputShape(model, randn(2, 1, 28, 28)));
    }

    [Fact]
    public void Cnn_OnGreyTwentyEightPixelImages_HalvesTheImagePerBlockAndHasNoConvBiasUnderBatchNorm()
    {
        using var model = ModelTemplates.Build(Image("cnn", 1, 28, new ModelArchitecture { ConvBlocks = 2, ConvWidth = 8, BatchNorm = true, Dropout = 0.1 }));
        var state = State(model).Where(p => !p.Contains("running") && !p.Contains("num_batches")).ToArray();
        Assert.Equal(Described([
            ("0.weight", [8, 1, 3, 3]), ("1.weight", [8]), ("1.bias", [8]),
            ("4.weight", [16, 8, 3, 3]), ("5.weight", [16]), ("5.bias", [16]),
            ("9.weight", [128, 16 * 7 * 7]), ("9.bias", [128]),
            ("12.weight", [3, 128]), ("12.bias", [3]),
        ]), state);
        Assert.Equal([5, 3], OutputShape(model, randn(5, 1, 28, 28)));
    }

    [Fact]
    public void Cnn_OnColourThirtyTwoPixelImagesWithoutBatchNorm_HasConvBiasesAndReadsThreeChannels()
    {
        using var model = ModelTemplates.Build(Image("cnn", 3, 32, new ModelArchitecture { ConvBlocks = 3, ConvWidth = 4, BatchNorm = false, Dropout = 0 }));
        Assert.Equal(Described([
            ("0.weight", [4, 3, 3, 3]), ("0.bias", [4]),
            ("3.weight", [8, 4, 3, 3]), ("3.bias", [8]),
            ("6.weight", [16, 8, 3, 3]), ("6.bias", [16]),
            ("10.weight", [128, 16 * 4 * 4]), ("10.bias", [128]),
            ("12.weight", [3, 128]), ("12.bias", [3]),
        ]), State(model));
        Assert.Equal([2, 3], OutputShape(model, randn(2, 3, 32, 32)));
    }

    [Fact]
    public void Cnn_WithMoreBlocksThanTheImageHasPixels_IsAnArgumentExceptionSayingSo()
    {
        var schema = Image("cnn", 1, 4, new ModelArchitecture { ConvBlocks = 3, ConvWidth = 4 });
        var ex = Assert.Throws<ArgumentException>(() => ModelTemplates.Build(schema));
        Assert.Equal("3 conv blocks halve 4x4 images below one pixel: use fewer blocks", ex.Message);
        using var fits = ModelTemplates.Build(schema with { Architecture = schema.Architecture with { ConvBlocks = 2 } });
        Assert.Equal([1, 3], OutputShape(fits, randn(1, 1, 4, 4)));
    }

    [Fact]
    public void TextLstm_IsABidirectionalLstmWithPyTorchGateNames()
    {
        using var model = ModelTemplates.Build(Text("text-lstm"));
        Assert.Equal(Described([
            ("embedding.weight", [30, 16]),
            ("lstm.weight_ih_l0", [32, 16]), ("lstm.weight_hh_l0", [32, 8]), ("lstm.bias_ih_l0", [32]), ("lstm.bias_hh_l0", [32]),
            ("lstm.weight_ih_l0_reverse", [32, 16]), ("lstm.weight_hh_l0_reverse", [32, 8]), ("lstm.bias_ih_l0_reverse", [32]), ("lstm.bias_hh_l0_reverse", [32]),
            ("output.weight", [2, 16]), ("output.bias", [2]),
        ]), State(model));
        Assert.Equal(0f, model.state_dict()["embedding.weight"][0].abs().sum().item<float>()); // the padding row
        Assert.Equal([3, 2], OutputShape(model, randint(0, 30, [3, 12])));
    }

    [Fact]
    public void TextCnn_HasOneConvolutionPerKernelWidth()
    {
        using var model = ModelTemplates.Build(Text("text-cnn"));
        Assert.Equal(Described([
            ("embedding.weight", [30, 16]),
            ("conv3.weight", [8, 16, 3]), ("conv3.bias", [8]),
            ("conv4.weight", [8, 16, 4]), ("conv4.bias", [8]),
            ("conv5.weight", [8, 16, 5]), ("conv5.bias", [8]),
            ("output.weight", [2, 24]), ("output.bias", [2]),
        ]), State(model));
        Assert.Equal([3, 2], OutputShape(model, randint(0, 30, [3, 12])));
    }

    [Fact]
    public void TextTransformer_HasTokenAndPositionEmbeddingsAndPyTorchEncoderLayers()
    {
        using var model = ModelTemplates.Build(Text("text-transformer"));
        (string, long[])[] layer(int i) => [
            ($"layers.{i}.self_attn.in_proj_weight", [48, 16]), ($"layers.{i}.self_attn.in_proj_bias", [48]),
            ($"layers.{i}.self_attn.out_proj.weight", [16, 16]), ($"layers.{i}.self_attn.out_proj.bias", [16]),
            ($"layers.{i}.linear1.weight", [8, 16]), ($"layers.{i}.linear1.bias", [8]),
            ($"layers.{i}.linear2.weight", [16, 8]), ($"layers.{i}.linear2.bias", [16]),
            ($"layers.{i}.norm1.weight", [16]), ($"layers.{i}.norm1.bias", [16]),
            ($"layers.{i}.norm2.weight", [16]), ($"layers.{i}.norm2.bias", [16]),
        ];
        Assert.Equal(Described([
            ("token_embedding.weight", [30, 16]), ("position_embedding.weight", [12, 16]),
            .. layer(0), .. layer(1),
            ("output.weight", [2, 16]), ("output.bias", [2]),
        ]), State(model));
        Assert.Equal([3, 2], OutputShape(model, randint(0, 30, [3, 12])));
    }

    [Fact]
    public void TextTransformer_OnTextsWithNoKnownToken_GivesFiniteOutputs()
    {
        using var model = ModelTemplates.Build(Text("text-transformer"));
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // All padding (an empty text), and all <unk>; padding is masked out of attention and pooling.
        var ids = tensor(new long[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, [2, 12]);
        var output = model.call(ids);
        Assert.True(output.isfinite().all().item<bool>(), $"outputs {string.Join(", ", output.data<float>().ToArray())}");
    }

    [Fact]
    public void TextTransformer_PaddingDoesNotChangeTheOutput()
    {
        var schema = Text("text-transformer");
        using var model = ModelTemplates.Build(schema);
        using var longer = ModelTemplates.Build(schema with { MaxTokens = 20 });
        ModuleState.CopyMatching(model, longer);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var shortIds = tensor(new long[] { 5, 9, 2, 7, 0, 0, 0, 0, 0, 0, 0, 0 }, [1, 12]);
        var a = model.call(shortIds);
        var b = model.call(cat([shortIds[.., ..8], zeros(1, 4, dtype: ScalarType.Int64)], 1));
        Assert.True(a.allclose(b, rtol: 0, atol: 1e-5), $"{string.Join(", ", a.data<float>().ToArray())} vs {string.Join(", ", b.data<float>().ToArray())}");
    }

    [Fact]
    public void WeightedLayers_AreTheLeafLayersWithWeights_InForwardOrder()
    {
        using var mlp = ModelTemplates.Build(Tabular());
        Assert.Equal(["0", "1", "4", "5", "8"], ModelTemplates.WeightedLayers(mlp).Select(l => l.Name));
        using var embedding = ModelTemplates.Build(Tabular(encoding: "embedding"));
        Assert.Equal(["embedding_0", "body.0", "body.1", "body.4", "body.5", "body.8"], ModelTemplates.WeightedLayers(embedding).Select(l => l.Name));
        using var cnn = ModelTemplates.Build(Image("cnn", 1, 28, new ModelArchitecture { ConvBlocks = 2, ConvWidth = 8 }));
        Assert.Equal(["0", "1", "4", "5", "9", "12"], ModelTemplates.WeightedLayers(cnn).Select(l => l.Name));
        using var lstm = ModelTemplates.Build(Text("text-lstm"));
        Assert.Equal(["embedding", "lstm", "output"], ModelTemplates.WeightedLayers(lstm).Select(l => l.Name));
        using var textCnn = ModelTemplates.Build(Text("text-cnn"));
        Assert.Equal(["embedding", "conv3", "conv4", "conv5", "output"], ModelTemplates.WeightedLayers(textCnn).Select(l => l.Name));
        // An encoder layer counts as one layer: freezing it freezes its attention and feed-forward block together.
        using var transformer = ModelTemplates.Build(Text("text-transformer"));
        var layers = ModelTemplates.WeightedLayers(transformer);
        Assert.Equal(["token_embedding", "position_embedding", "layers.0", "layers.1", "output"], layers.Select(l => l.Name));
        Assert.Equal(12, layers[2].Module.parameters().Count());
    }

    [Fact]
    public void Build_TemplateThatCannotReadTheInput_SaysWhichTemplatesFit()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelTemplates.Build(Tabular() with { Template = "cnn" }));
        Assert.Equal("the 'cnn' template cannot read tabular input (it fits: mlp)", ex.Message);
        Assert.Equal(["cnn", "mlp"], ModelTemplates.For(ModelSchema.Image));
        Assert.Equal(["text-lstm", "text-cnn", "text-transformer"], ModelTemplates.For(ModelSchema.Text));
        Assert.Empty(ModelTemplates.For("audio"));
    }
}
