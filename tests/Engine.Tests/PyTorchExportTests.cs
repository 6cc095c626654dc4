using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelOps.Engine.Data;
using ModelOps.Engine.Models;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ModelOps.Engine.Tests;

/// <summary>
/// Predictor.ExportPyTorchStateDict writes a package's weights as a PyTorch state dict: it loads back
/// through TorchSharp.PyBridge and, where Debian's python3-torch is installed, in PyTorch itself, with
/// PyTorch's names and shapes and the same outputs.
/// </summary>
public class PyTorchExportTests(ITestOutputHelper output)
{
    private const string Python = "/usr/bin/python3";

    /// <summary>A legacy fixture, or for the transformer (which the old engine did not have) a package of a fresh network.</summary>
    private static string Package(string model, string dir)
    {
        if (model != "text-transformer") return LegacyFixtures.File($"{model}.mopkg");
        var schema = new ModelSchema("text-transformer", ModelSchema.Text, [], ["neg", "pos"], null)
        {
            Vocabulary = ["<pad>", "<unk>", "a", "wonderful", "and", "brilliant", "story", "an", "awful", "boring", "mess"],
            MaxTokens = 12,
            Architecture = new ModelArchitecture { EmbeddingDim = 16, AttentionHeads = 4, HiddenSize = 32, TransformerLayers = 2, Dropout = 0.1 },
        };
        manual_seed(8);
        using var network = ModelTemplates.Build(schema);
        string path = Path.Combine(dir, "text-transformer.mopkg");
        ModelPackage.Write(path, schema, ModuleState.Save(network));
        return path;
    }

    private static nn.Module<Tensor, Tensor> Loaded(string package)
    {
        var (schema, weights) = ModelPackage.Read(package);
        var model = ModelTemplates.Build(schema);
        weights.LoadInto(model);
        model.eval();
        return model;
    }

    /// <summary>An input batch for the package's network, already encoded as the predictor would.</summary>
    private static Tensor Input(ModelSchema schema)
    {
        var random = new Random(4);
        switch (schema.InputKind)
        {
            case ModelSchema.Tabular:
                var encoder = new FeatureEncoder(schema);
                var rows = new float[3 * encoder.Width];
                for (int r = 0; r < 3; r++)
                    for (int f = 0; f < schema.Features.Count; f++)
                    {
                        var row = rows.AsSpan(r * encoder.Width, encoder.Width);
                        if (schema.Features[f].Kind == FeatureKind.Numeric) encoder.WriteNumeric(f, random.NextDouble() * 8 - 4, row);
                        else encoder.WriteCategory(f, schema.Features[f].Categories![r % schema.Features[f].Categories!.Count], row);
                    }
                return tensor(rows, [3, encoder.Width]);
            case ModelSchema.Image:
                var pixels = Enumerable.Range(0, 3 * schema.PixelCount)
                    .Select(_ => (float)((random.Next(256) / 255.0 - schema.PixelMean) / schema.PixelStd)).ToArray();
                return tensor(pixels, [3, .. schema.ImageShape!.Select(d => (long)d)]);
            default:
                var vocabulary = new TextVocabulary(schema.Vocabulary!);
                var ids = new long[3 * schema.MaxTokens];
                string[] texts = ["a wonderful and brilliant story", "an awful boring mess", ""];
                for (int i = 0; i < 3; i++) vocabulary.Encode(texts[i], ids.AsSpan(i * schema.MaxTokens, schema.MaxTokens));
                return tensor(ids, [3, schema.MaxTokens]);
        }
    }

    [Theory]
    [InlineData("mlp-classification")]
    [InlineData("mlp-embedding")]
    [InlineData("cnn-colour")]
    [InlineData("text-lstm")]
    [InlineData("text-cnn")]
    [InlineData("text-transformer")]
    public void Export_LoadsBackThroughPyBridgeIntoAFreshNetwork_WithIdenticalOutputs(string model)
    {
        using var dir = new TempDirectory();
        string package = Package(model, dir.Path), exported = Path.Combine(dir.Path, $"{model}.pt");

        Predictor.ExportPyTorchStateDict(package, exported);

        Assert.True(new FileInfo(exported).Length > 0);
        var (schema, _) = ModelPackage.Read(package);
        using var original = Loaded(package);
        using var fresh = ModelTemplates.Build(schema);
        fresh.load_py(exported);
        fresh.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var expected = original.state_dict();
        foreach (var (name, value) in fresh.state_dict())
            Assert.True(value.equal(expected[name]).all().item<bool>(), $"{name} differs after the round trip");
        var input = Input(schema);
        Assert.Equal(original.call(input).data<float>().ToArray(), fresh.call(input).data<float>().ToArray());
    }

    /// <summary>
    /// PyTorch equivalents of four templates (the engine's docs give them for every template): each
    /// loads the exported file with strict names and shapes and must give the engine's outputs.
    /// </summary>
    private const string Script = """
        import json, sys, torch
        from torch import nn

        class TextLstm(nn.Module):
            def __init__(self, vocabulary, embedding, hidden, classes):
                super().__init__()
                self.embedding = nn.Embedding(vocabulary, embedding, padding_idx=0)
                self.lstm = nn.LSTM(embedding, hidden, batch_first=True, bidirectional=True)
                self.dropout = nn.Dropout(0.1)
                self.output = nn.Linear(2 * hidden, classes)
            def forward(self, ids):
                sequence, _ = self.lstm(self.embedding(ids))
                return self.output(self.dropout(sequence.max(1).values))

        class TextTransformer(nn.Module):
            def __init__(self, vocabulary, max_tokens, embedding, heads, hidden, layers, classes):
                super().__init__()
                self.token_embedding = nn.Embedding(vocabulary, embedding, padding_idx=0)
                self.position_embedding = nn.Embedding(max_tokens, embedding)
                self.layers = nn.ModuleList([nn.TransformerEncoderLayer(embedding, heads, hidden, 0.1) for _ in range(layers)])
                self.dropout = nn.Dropout(0.1)
                self.output = nn.Linear(embedding, classes)
                self.scale = embedding ** 0.5
            def forward(self, ids):
                positions = torch.arange(ids.shape[1]).unsqueeze(0)
                padding = ids.eq(0)
                # A text with no known token keeps its first position, so attention has something to look at.
                padding = padding & ~(padding.all(1, keepdim=True) & positions.eq(0))
                x = (self.token_embedding(ids) * self.scale + self.position_embedding(positions)).transpose(0, 1)
                for layer in self.layers:
                    x = layer(x, src_key_padding_mask=padding)
                keep = (~padding).unsqueeze(2).to(x.dtype)
                pooled = (x.transpose(0, 1) * keep).sum(1) / keep.sum(1).clamp_min(1)
                return self.output(self.dropout(pooled))

        def mlp(inputs, hidden, classes):
            layers, width = [], inputs
            for h in hidden:
                layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(0.1)]
                width = h
            return nn.Sequential(*layers, nn.Linear(width, classes))

        def cnn(channels, size, width, blocks, classes):
            layers, c = [], channels
            for b in range(blocks):
                layers += [nn.Conv2d(c, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)]
                c, width, size = width, width * 2, size // 2
            return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * size * size, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, classes))

        results = {}
        for case in json.load(sys.stdin):
            state = torch.load(case["file"], map_location="cpu")
            a = case["architecture"]
            if case["template"] == "mlp":
                model = mlp(a["inputs"], a["hidden"], a["classes"])
            elif case["template"] == "cnn":
                model = cnn(a["channels"], a["size"], a["width"], a["blocks"], a["classes"])
            elif case["template"] == "text-transformer":
                model = TextTransformer(a["vocabulary"], a["maxTokens"], a["embedding"], a["heads"], a["hidden"], a["layers"], a["classes"])
            else:
                model = TextLstm(a["vocabulary"], a["embedding"], a["hidden"], a["classes"])
            model.load_state_dict(state, strict=True)
            model.eval()
            dtype = torch.long if case["template"].startswith("text-") else torch.float32
            with torch.no_grad():
                logits = model(torch.tensor(case["input"], dtype=dtype).reshape(case["shape"]))
            results[case["name"]] = {
                "shapes": {k: list(v.shape) for k, v in state.items()},
                "dtypes": {k: str(v.dtype) for k, v in state.items()},
                "logits": logits.reshape(-1).tolist(),
                "torch": torch.__version__,
            }
        json.dump(results, sys.stdout)
        """;

    private static bool PyTorchAvailable()
    {
        if (!File.Exists(Python)) return false;
        using var probe = Process.Start(new ProcessStartInfo(Python, ["-c", "import torch"]) { RedirectStandardError = true, UseShellExecute = false })!;
        probe.StandardError.ReadToEnd();
        return probe.WaitForExit(60_000) && probe.ExitCode == 0;
    }

    [Fact]
    public async Task Export_IsReadByPyTorchIntoItsOwnModules_WithTheSameOutputs()
    {
        if (!PyTorchAvailable())
        {
            output.WriteLine($"{Python} cannot import torch (Debian's python3-torch is not installed): the export was checked through PyBridge only");
            return;
        }
        using var dir = new TempDirectory();
        var cases = new JsonArray();
        var expected = new Dictionary<string, (Dictionary<string, long[]> Shapes, float[] Logits)>();
        foreach (string model in new[] { "mlp-classification", "cnn-grey", "text-lstm", "text-transformer" })
        {
            string package = Package(model, dir.Path), exported = Path.Combine(dir.Path, $"{model}.pt");
            Predictor.ExportPyTorchStateDict(package, exported);
            var (schema, _) = ModelPackage.Read(package);
            using var network = Loaded(package);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = Input(schema);
            expected[model] = (network.state_dict().ToDictionary(p => p.Key, p => p.Value.shape), network.call(input).data<float>().ToArray());
            var a = schema.Architecture;
            JsonObject architecture = schema.Template switch
            {
                "mlp" => new() { ["inputs"] = schema.EncodedWidth, ["hidden"] = new JsonArray(a.HiddenLayers.Select(h => (JsonNode)h).ToArray()), ["classes"] = schema.OutputCount },
                "cnn" => new() { ["channels"] = schema.ImageShape![0], ["size"] = schema.ImageShape[1], ["width"] = a.ConvWidth, ["blocks"] = a.ConvBlocks, ["classes"] = schema.OutputCount },
                "text-transformer" => new()
                {
                    ["vocabulary"] = schema.Vocabulary!.Count, ["maxTokens"] = schema.MaxTokens, ["embedding"] = a.EmbeddingDim, ["heads"] = a.AttentionHeads,
                    ["hidden"] = a.HiddenSize, ["layers"] = a.TransformerLayers, ["classes"] = schema.OutputCount,
                },
                _ => new() { ["vocabulary"] = schema.Vocabulary!.Count, ["embedding"] = a.EmbeddingDim, ["hidden"] = a.HiddenSize, ["classes"] = schema.OutputCount },
            };
            var values = input.dtype == ScalarType.Int64
                ? new JsonArray(input.data<long>().ToArray().Select(v => (JsonNode)v).ToArray())
                : new JsonArray(input.data<float>().ToArray().Select(v => (JsonNode)v).ToArray());
            cases.Add(new JsonObject
            {
                ["name"] = model, ["file"] = exported, ["template"] = schema.Template, ["architecture"] = architecture,
                ["input"] = values, ["shape"] = new JsonArray(input.shape.Select(d => (JsonNode)d).ToArray()),
            });
        }

        var start = new ProcessStartInfo(Python, ["-c", Script]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var python = Process.Start(start)!;
        await python.StandardInput.WriteAsync(cases.ToJsonString());
        python.StandardInput.Close();
        var stderr = python.StandardError.ReadToEndAsync();
        string stdout = await python.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await python.WaitForExitAsync(timeout.Token);
        Assert.True(python.ExitCode == 0, $"python failed: {await stderr}");

        var results = JsonNode.Parse(stdout)!.AsObject();
        foreach (var (model, (shapes, logits)) in expected)
        {
            var result = results[model]!;
            var theirShapes = result["shapes"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.AsArray().Select(d => d!.GetValue<long>()).ToArray());
            Assert.Equal(shapes.Keys.Order(), theirShapes.Keys.Order());
            Assert.All(shapes, p => Assert.Equal(p.Value, theirShapes[p.Key]));
            Assert.All(result["dtypes"]!.AsObject(), p => Assert.Equal(p.Key.EndsWith("num_batches_tracked") ? "torch.int64" : "torch.float32", p.Value!.GetValue<string>()));
            var theirs = result["logits"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            double difference = logits.Zip(theirs, (x, y) => Math.Abs(x - y)).Max();
            output.WriteLine($"{model}: PyTorch {result["torch"]} loads {shapes.Count} tensors strictly; max |logit difference| {difference:E2}");
            Assert.True(difference < 1e-4, $"{model}: PyTorch's logits differ by {difference}");
        }
    }
}
