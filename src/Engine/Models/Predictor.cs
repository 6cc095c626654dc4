using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ModelOps.Engine.Models;

/// <summary>A loaded model package that answers predictions on the CPU. Thread-safe: calls into libtorch are serialized.</summary>
public sealed class Predictor : IDisposable
{
    private readonly object gate = new();
    private readonly nn.Module<Tensor, Tensor> model;
    private readonly FeatureEncoder? encoder;
    private readonly Data.TextVocabulary? vocabulary;
    private bool disposed;

    private Predictor(ModelSchema schema, nn.Module<Tensor, Tensor> model)
    {
        Schema = schema;
        this.model = model;
        if (schema.InputKind == ModelSchema.Tabular) encoder = new FeatureEncoder(schema);
        if (schema.InputKind == ModelSchema.Text) vocabulary = new Data.TextVocabulary(schema.Vocabulary!);
    }

    public ModelSchema Schema { get; }

    /// <summary>Loads a package written by the trainer; a corrupt file gives <see cref="InvalidDataException"/>.</summary>
    public static Predictor Load(string modelPackagePath)
    {
        var (schema, weights) = ModelPackage.Read(modelPackagePath);
        return new Predictor(schema, BuildLoaded(modelPackagePath, schema, weights));
    }

    /// <summary>The package's network with its weights, in evaluation mode, on the CPU.</summary>
    internal static nn.Module<Tensor, Tensor> BuildLoaded(string path, ModelSchema schema, ModelWeights weights)
    {
        nn.Module<Tensor, Tensor> model;
        try
        {
            model = ModelTemplates.Build(schema);
        }
        catch (Exception e) when (e is ArgumentException or ExternalException)
        {
            throw new InvalidDataException($"'{Path.GetFileName(path)}' is not a valid model package: {e.Message}", e);
        }
        try
        {
            weights.LoadInto(model);
            model.eval();
            return model;
        }
        catch (InvalidDataException e)
        {
            model.Dispose();
            throw new InvalidDataException($"'{Path.GetFileName(path)}' is not a valid model package: its weights do not load ({e.Message})", e);
        }
    }

    /// <summary>
    /// Writes the package's weights as a PyTorch state dict (TorchSharp.PyBridge's pickle format), which
    /// <c>torch.load</c> reads into a <c>dict</c> of tensors with the same names; docs/engine.md has the
    /// matching PyTorch module for each template.
    /// </summary>
    public static void ExportPyTorchStateDict(string modelPackagePath, string outputPath)
    {
        var (schema, weights) = ModelPackage.Read(modelPackagePath);
        using var model = BuildLoaded(modelPackagePath, schema, weights);
        string temp = outputPath + ".tmp";
        model.save_py(temp);
        File.Move(temp, outputPath, overwrite: true);
    }

    /// <summary>Each row holds one value per feature, in <see cref="ModelSchema.Features"/> order.</summary>
    public IReadOnlyList<Prediction> PredictTabular(IReadOnlyList<IReadOnlyList<object?>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (encoder is null) throw new InvalidModelInputException($"this model takes {Schema.InputKind} input, not tabular rows");
        bool fillMissing = Schema.MissingValues is "mean" or "zero";
        var features = Schema.Features;
        var input = new float[rows.Count * encoder.Width];
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r] ?? throw new InvalidModelInputException($"row {r}: the row is missing");
            if (row.Count != features.Count)
                throw new InvalidModelInputException($"row {r}: expected {features.Count} features, got {row.Count}");
            var target = input.AsSpan(r * encoder.Width, encoder.Width);
            for (int f = 0; f < features.Count; f++)
            {
                // A missing value gets the fill the training data got (the package keeps the training
                // split's mean and mode); a model trained to drop or refuse incomplete rows refuses it.
                if (IsMissing(row[f]))
                {
                    if (!fillMissing)
                        throw new InvalidModelInputException(
                            $"row {r}, feature '{features[f].Name}': the value is missing, and this model was trained with the missing-value policy '{Schema.MissingValues}', which fills nothing; send a value");
                    if (features[f].Kind == FeatureKind.Numeric) encoder.WriteNumeric(f, double.NaN, target);
                    else encoder.WriteCategory(f, null, target);
                }
                else if (features[f].Kind == FeatureKind.Numeric)
                    encoder.WriteNumeric(f, ToNumber(row[f], r, features[f].Name), target);
                else
                    encoder.WriteCategory(f, ToCategory(row[f], r, features[f].Name), target);
            }
        }
        return Run(input, [rows.Count, encoder.Width]);
    }

    /// <summary>Each image holds channels x height x width pixel values on the 0..255 scale.</summary>
    public IReadOnlyList<Prediction> PredictImages(IReadOnlyList<float[]> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (Schema.ImageShape is not { } shape) throw new InvalidModelInputException($"this model takes {Schema.InputKind} input, not images");
        int pixels = Schema.PixelCount;
        var input = new float[images.Count * pixels];
        float scale = (float)(1.0 / (255.0 * Schema.PixelStd));
        float shift = (float)(Schema.PixelMean / Schema.PixelStd);
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i] ?? throw new InvalidModelInputException($"image {i}: the image is missing");
            if (image.Length != pixels)
                throw new InvalidModelInputException($"image {i}: expected {pixels} pixel values ({string.Join("x", shape)}), got {image.Length}");
            for (int p = 0; p < pixels; p++)
            {
                float v = image[p];
                if (!(v >= 0f && v <= 255f))
                    throw new InvalidModelInputException($"image {i}, pixel {p}: {v.ToString(CultureInfo.InvariantCulture)} is outside 0..255");
                input[i * pixels + p] = v * scale - shift;
            }
        }
        return Run(input, [images.Count, .. shape.Select(d => (long)d)]);
    }

    /// <summary>Each text is one document; it is tokenized like the training texts and cut or padded to the model's length.</summary>
    public IReadOnlyList<Prediction> PredictText(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (vocabulary is null) throw new InvalidModelInputException($"this model takes {Schema.InputKind} input, not text");
        int length = Schema.MaxTokens;
        var ids = new long[texts.Count * length];
        for (int i = 0; i < texts.Count; i++)
        {
            var text = texts[i] ?? throw new InvalidModelInputException($"text {i}: the text is missing");
            vocabulary.Encode(text, ids.AsSpan(i * length, length));
        }
        if (texts.Count == 0) return [];
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return Decode(Forward(tensor(ids, [texts.Count, length])), texts.Count);
        }
    }

    /// <summary>Null, NaN, or a cell the CSV reader counts as missing (empty, NA, N/A, NaN, null, ?: see <see cref="Data.MissingCells"/>).</summary>
    private static bool IsMissing(object? value) => value switch
    {
        null => true,
        string s => Data.MissingCells.IsMissing(s),
        double d => double.IsNaN(d),
        float f => float.IsNaN(f),
        JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => true,
        JsonElement { ValueKind: JsonValueKind.String } json => Data.MissingCells.IsMissing(json.GetString()),
        _ => false,
    };

    private IReadOnlyList<Prediction> Run(float[] input, long[] shape)
    {
        if (shape[0] == 0) return [];
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return Decode(Forward(tensor(input, shape)), (int)shape[0]);
        }
    }

    private Tensor Forward(Tensor input)
    {
        try
        {
            return model.call(input);
        }
        catch (ExternalException e)
        {
            throw EngineException.From(e);
        }
    }

    private IReadOnlyList<Prediction> Decode(Tensor output, int count)
    {
        if (Schema.IsRegression)
        {
            var values = output.reshape(count).data<float>().ToArray();
            return values.Select(v => v * Schema.LabelStd + Schema.LabelMean)
                .Select(v => new Prediction(v.ToString("R", CultureInfo.InvariantCulture), -1, new Dictionary<string, double>()) { Value = v })
                .ToArray();
        }
        var probabilities = output.softmax(1).data<float>().ToArray();
        var classes = Schema.ClassNames;
        var predictions = new Prediction[count];
        for (int r = 0; r < predictions.Length; r++)
        {
            var row = probabilities.AsSpan(r * classes.Count, classes.Count);
            int best = 0;
            var map = new Dictionary<string, double>(classes.Count);
            for (int c = 0; c < classes.Count; c++)
            {
                map[classes[c]] = row[c];
                if (row[c] > row[best]) best = c;
            }
            predictions[r] = new Prediction(classes[best], best, map);
        }
        return predictions;
    }

    private static double ToNumber(object? value, int row, string feature)
    {
        switch (value)
        {
            case null:
                throw new InvalidModelInputException($"row {row}, feature '{feature}': value is missing");
            case double d: return Finite(d, row, feature);
            case float f: return Finite(f, row, feature);
            case decimal m: return (double)m;
            case int or long or short or byte or sbyte or uint or ulong or ushort:
                return Convert.ToDouble(value, CultureInfo.InvariantCulture);
            case string s:
                if (double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed))
                    return Finite(parsed, row, feature);
                throw new InvalidModelInputException($"row {row}, feature '{feature}': '{s}' is not a number");
            case JsonElement { ValueKind: JsonValueKind.Number } json:
                return json.GetDouble();
            case JsonElement { ValueKind: JsonValueKind.String } json:
                return ToNumber(json.GetString(), row, feature);
            case JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                return ToNumber(null, row, feature);
            default:
                throw new InvalidModelInputException($"row {row}, feature '{feature}': '{value}' is not a number");
        }
    }

    private static double Finite(double value, int row, string feature) =>
        double.IsFinite(value) ? value : throw new InvalidModelInputException($"row {row}, feature '{feature}': {value} is not a finite number");

    private static string ToCategory(object? value, int row, string feature) => value switch
    {
        null => throw new InvalidModelInputException($"row {row}, feature '{feature}': value is missing"),
        string s => s.Trim(),
        JsonElement { ValueKind: JsonValueKind.String } json => json.GetString()!.Trim(),
        JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => ToCategory(null, row, feature),
        JsonElement json => json.GetRawText(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            model.Dispose();
        }
    }
}
