namespace ModelOps.Engine.Models;

/// <summary>Turns feature values into the model's float input: standardized numbers and one-hot categories.</summary>
internal sealed class FeatureEncoder
{
    private readonly IReadOnlyList<FeatureSchema> features;
    private readonly int[] offsets;
    private readonly Dictionary<string, int>?[] categoryIndex;

    public FeatureEncoder(IReadOnlyList<FeatureSchema> features)
    {
        this.features = features;
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
                offset += categories.Count;
            }
        }
        Width = offset;
    }

    public int Width { get; }

    /// <summary>NaN means missing and encodes as the training mean (0 after standardization).</summary>
    public void WriteNumeric(int feature, double value, Span<float> row)
    {
        var f = features[feature];
        row[offsets[feature]] = double.IsNaN(value) ? 0f : (float)((value - f.Mean) / f.Std);
    }

    /// <summary>Unknown or missing categories encode as all zeros.</summary>
    public void WriteCategory(int feature, string? value, Span<float> row)
    {
        var index = categoryIndex[feature]!;
        int width = index.Count;
        row.Slice(offsets[feature], width).Clear();
        if (value is not null && index.TryGetValue(value, out int k)) row[offsets[feature] + k] = 1f;
    }
}
