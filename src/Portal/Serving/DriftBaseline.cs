using System.Globalization;
using ModelOps.Engine.Models;

namespace ModelOps.Portal.Serving;

/// <summary>One feature's training distribution: numeric on quantile edges, categorical by level plus "other".</summary>
public sealed record FeatureBaseline(string Name, bool Numeric, double[] Edges, string[] Levels, double[] Expected)
{
    public const string Other = "(other)";

    public int Bins => Expected.Length;

    public int BinOf(object? value)
    {
        if (Numeric)
        {
            var x = value switch { double d => d, string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p, _ => double.NaN };
            if (double.IsNaN(x)) return -1;
            // The count of edges below x: bin 0 holds values up to the first edge.
            int lo = 0, hi = Edges.Length;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (Edges[mid] < x) lo = mid + 1; else hi = mid;
            }
            return lo;
        }
        var text = value?.ToString();
        var index = text is null ? -1 : Array.IndexOf(Levels, text);
        return index >= 0 ? index : Levels.Length;
    }
}

/// <summary>What drift compares served traffic with: per feature, and the test split's class shares.</summary>
public sealed record DriftBaseline(IReadOnlyList<FeatureBaseline> Features, string[] Classes, double[]? ClassExpected)
{
    public const string PredictedClass = "(predicted class)";
    public const int NumericBins = 10;

    /// <summary>Bins <paramref name="column"/>'s training values of each feature; a feature missing from the CSV is left out.</summary>
    public static IReadOnlyList<FeatureBaseline> FromTraining(ModelSchema schema, string[] header, IReadOnlyList<string[]> rows)
    {
        var features = new List<FeatureBaseline>();
        foreach (var feature in schema.Features)
        {
            var column = Array.IndexOf(header, feature.Name);
            if (column < 0) continue;
            if (feature.Kind == FeatureKind.Numeric)
            {
                var values = rows.Select(r => column < r.Length && double.TryParse(r[column], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN)
                    .Where(double.IsFinite).Order().ToArray();
                if (values.Length == 0) continue;
                var edges = Enumerable.Range(1, NumericBins - 1).Select(i => values[(int)Math.Floor((double)i * (values.Length - 1) / NumericBins)])
                    .Distinct().ToArray();
                var shell = new FeatureBaseline(feature.Name, true, edges, [], new double[edges.Length + 1]);
                features.Add(shell with { Expected = Shares(values.Select(v => shell.BinOf(v)), edges.Length + 1) });
            }
            else
            {
                var levels = (feature.Categories ?? rows.Select(r => column < r.Length ? r[column] : "").Distinct().ToList()).ToArray();
                var shell = new FeatureBaseline(feature.Name, false, [], levels, new double[levels.Length + 1]);
                features.Add(shell with { Expected = Shares(rows.Select(r => shell.BinOf(column < r.Length ? r[column] : null)), levels.Length + 1) });
            }
        }
        return features;
    }

    public static double[] Shares(IEnumerable<int> bins, int count)
    {
        var counts = new double[count];
        var total = 0;
        foreach (var b in bins)
        {
            if (b < 0 || b >= count) continue;
            counts[b]++;
            total++;
        }
        if (total > 0)
            for (var i = 0; i < count; i++) counts[i] /= total;
        return counts;
    }

    /// <summary>Population stability index, each share floored at 1e-4 so an empty bin counts as rare, not infinite.</summary>
    public static double Psi(double[] expected, double[] actual)
    {
        const double floor = 1e-4;
        var psi = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var e = Math.Max(expected[i], floor);
            var a = Math.Max(actual[i], floor);
            psi += (a - e) * Math.Log(a / e);
        }
        return psi;
    }
}
