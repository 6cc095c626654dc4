namespace ModelOps.Engine.Models;

/// <summary>
/// Turns feature values into the model's float input: standardized numbers, and categories either
/// one-hot or as an embedding id (1 + category position; 0 for unknown or missing).
/// </summary>
internal sealed class FeatureEncoder
{
    private readonly IReadOnlyList<FeatureSchema> features;
    private readonly int[] offsets;
    private readonly Dictionary<string, int>?[] categoryIndex;
    private readonly bool embedding;
    private readonly bool missingIsZero;
    private readonly bool missingIsMode;

    public FeatureEncoder(ModelSchema schema)
    {
        features = schema.Features;
        embedding = schema.CategoricalEncoding == "embedding";
        missingIsZero = schema.MissingValues == "zero";
        missingIsMode = schema.MissingValues == "mean";
        offsets = new int[features.Count];
        categoryIndex = new Dictionary<string, int>?[features.Count];
        int offset = 0;
        for (int i = 0; i < features.Count; i++)
        {
            offsets[i] = offset;
            if (features[i].Kind == FeatureKind.Numeric)
            {
                offset += 1;
            }
            else
            {
                var categories = features[i].Categories ?? [];
                categoryIndex[i] = categories.Select((c, k) => (c, k)).ToDictionary(p => p.c, p => p.k, StringComparer.Ordinal);
                offset += embedding ? 1 : categories.Count;
            }
        }
        Width = offset;
    }

    public int Width { get; }

    /// <summary>NaN means missing: the training mean (0 after standardization), or a raw 0 under the zero policy.</summary>
    public void WriteNumeric(int feature, double value, Span<float> row)
    {
        var f = features[feature];
        if (double.IsNaN(value)) value = missingIsZero ? 0 : f.Mean;
        row[offsets[feature]] = (float)((value - f.Mean) / f.Std);
    }

    /// <summary>
    /// Null means missing: under the mean policy the training mode; otherwise, like an unknown category,
    /// all zeros (one-hot) or id 0 (embedding).
    /// </summary>
    public void WriteCategory(int feature, string? value, Span<float> row)
    {
        var index = categoryIndex[feature]!;
        if (value is null && missingIsMode) value = features[feature].Mode;
        int k = value is not null && index.TryGetValue(value, out int found) ? found : -1;
        if (embedding)
        {
            row[offsets[feature]] = k + 1;
            return;
        }
        row.Slice(offsets[feature], index.Count).Clear();
        if (k >= 0) row[offsets[feature] + k] = 1f;
    }
}
