namespace ModelOps.Engine.Models;

public enum FeatureKind { Numeric, Categorical }

/// <summary>One input column. Numeric features are standardized with Mean/Std; categorical ones are one-hot over Categories.</summary>
public sealed record FeatureSchema(string Name, FeatureKind Kind, IReadOnlyList<string>? Categories)
{
    public double Mean { get; init; }
    public double Std { get; init; } = 1;
}

/// <summary>Everything a caller needs to know to feed a model package.</summary>
public sealed record ModelSchema(
    string Template,
    string InputKind /* "tabular" | "image" */,
    IReadOnlyList<FeatureSchema> Features,
    IReadOnlyList<string> ClassNames,
    int[]? ImageShape /* [1, 28, 28] */)
{
    /// <summary>Image normalization: pixel/255 then (x - PixelMean) / PixelStd.</summary>
    public double PixelMean { get; init; }
    public double PixelStd { get; init; } = 1;

    public const string Tabular = "tabular";
    public const string Image = "image";

    /// <summary>Width of the encoded tabular input (numeric features plus one-hot slots).</summary>
    public int EncodedWidth => Features.Sum(f => f.Kind == FeatureKind.Numeric ? 1 : f.Categories?.Count ?? 0);

    public int PixelCount => ImageShape is null ? 0 : ImageShape.Aggregate(1, (a, b) => a * b);
}

public sealed record Prediction(string Label, int ClassIndex, IReadOnlyDictionary<string, double> Probabilities);

/// <summary>Input rejected before it reached the model; the message names the row and feature.</summary>
public sealed class InvalidModelInputException : Exception
{
    public InvalidModelInputException(string message) : base(message) { }
}
