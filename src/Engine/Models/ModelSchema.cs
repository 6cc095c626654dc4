namespace ModelOps.Engine.Models;

public enum FeatureKind { Numeric, Categorical }

/// <summary>
/// One input column. Numeric features are standardized with Mean/Std; categorical ones are one-hot
/// over Categories, or an id (1 + position in Categories, 0 for unknown) fed to an embedding.
/// </summary>
public sealed record FeatureSchema(string Name, FeatureKind Kind, IReadOnlyList<string>? Categories)
{
    public double Mean { get; init; }
    public double Std { get; init; } = 1;
    /// <summary>Categorical: the training split's most frequent category, which a missing value becomes under the mean policy (null in packages made before it was kept: missing then encodes as unknown).</summary>
    public string? Mode { get; init; }
}

/// <summary>The shape hyperparameters a template needs to rebuild the same network (see <c>TrainingOptions</c>).</summary>
public sealed record ModelArchitecture
{
    public int[] HiddenLayers { get; init; } = [128, 64];
    public int ConvBlocks { get; init; } = 2;
    public int ConvWidth { get; init; } = 32;
    public bool BatchNorm { get; init; } = true;
    public double Dropout { get; init; } = 0.1;
    public int EmbeddingDim { get; init; } = 64;
    public int HiddenSize { get; init; } = 64;
    public int TransformerLayers { get; init; } = 2;
    public int AttentionHeads { get; init; } = 4;
}

/// <summary>Everything a caller needs to know to feed a model package.</summary>
public sealed record ModelSchema(
    string Template,
    string InputKind /* "tabular" | "image" | "text" */,
    IReadOnlyList<FeatureSchema> Features,
    IReadOnlyList<string> ClassNames /* empty for regression */,
    int[]? ImageShape /* [channels, height, width] */)
{
    /// <summary>Image normalization: pixel/255 then (x - PixelMean) / PixelStd.</summary>
    public double PixelMean { get; init; }
    public double PixelStd { get; init; } = 1;

    /// <summary>classification or regression.</summary>
    public string Task { get; init; } = "classification";
    public ModelArchitecture Architecture { get; init; } = new();
    /// <summary>Tabular: onehot or embedding.</summary>
    public string CategoricalEncoding { get; init; } = "onehot";
    /// <summary>
    /// Tabular: what a missing value becomes, at training and prediction alike: mean (a number the training
    /// mean, a category the training mode), zero (a number 0, a category no category), or whether it is
    /// refused (drop and error; a prediction with a missing value is then refused).
    /// </summary>
    public string MissingValues { get; init; } = "mean";
    /// <summary>Text: token per id; id 0 is padding and id 1 stands for any unknown token.</summary>
    public IReadOnlyList<string>? Vocabulary { get; init; }
    /// <summary>Text: tokens per example after cutting or padding.</summary>
    public int MaxTokens { get; init; }
    /// <summary>Regression: the label's training mean and standard deviation (the network predicts the standardized label).</summary>
    public double LabelMean { get; init; }
    public double LabelStd { get; init; } = 1;
    /// <summary>Regression: the label column's name.</summary>
    public string? LabelName { get; init; }

    public const string Tabular = "tabular";
    public const string Image = "image";
    public const string Text = "text";

    public bool IsRegression => Task == "regression";

    /// <summary>Network outputs: one per class, or one value for regression.</summary>
    public int OutputCount => IsRegression ? 1 : ClassNames.Count;

    /// <summary>Width of the encoded tabular input (numeric features plus one-hot slots or one id per categorical feature).</summary>
    public int EncodedWidth => Features.Sum(f => f.Kind == FeatureKind.Numeric ? 1
        : CategoricalEncoding == "embedding" ? 1 : f.Categories?.Count ?? 0);

    public int PixelCount => ImageShape is null ? 0 : ImageShape.Aggregate(1, (a, b) => a * b);
}

/// <summary>A prediction: the class with its probabilities, or for regression the value (Label is its text, ClassIndex -1).</summary>
public sealed record Prediction(string Label, int ClassIndex, IReadOnlyDictionary<string, double> Probabilities)
{
    public double? Value { get; init; }
}

/// <summary>Input rejected before it reached the model; the message names the row and feature.</summary>
public sealed class InvalidModelInputException : Exception
{
    public InvalidModelInputException(string message) : base(message) { }
}
