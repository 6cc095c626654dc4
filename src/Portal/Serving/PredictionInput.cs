using System.Globalization;
using System.Text.Json;
using ModelOps.Engine.Models;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Serving;

/// <summary>Turns JSON rows into the Engine's inputs, refusing anything that does not fit the schema.</summary>
public static class PredictionInput
{
    public static IReadOnlyList<IReadOnlyList<object?>> Rows(IReadOnlyList<JsonElement> inputs, ModelSchema schema)
    {
        var features = schema.Features;
        var rows = new List<IReadOnlyList<object?>>(inputs.Count);
        for (var r = 0; r < inputs.Count; r++)
        {
            var input = inputs[r];
            var values = new object?[features.Count];
            if (input.ValueKind == JsonValueKind.Array)
            {
                var count = input.GetArrayLength();
                if (count != features.Count)
                    throw PortalException.Invalid($"inputs[{r}]: expected {features.Count} features ({string.Join(", ", features.Select(f => f.Name))}), got {count}.", "inputs");
                var i = 0;
                foreach (var cell in input.EnumerateArray())
                {
                    values[i] = Value(cell, features[i], r);
                    i++;
                }
            }
            else if (input.ValueKind == JsonValueKind.Object)
            {
                var byName = features.Select((f, i) => (f.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
                foreach (var property in input.EnumerateObject())
                {
                    if (!byName.TryGetValue(property.Name, out var i))
                        throw PortalException.Invalid($"inputs[{r}]: unknown feature '{property.Name}'; the features are {string.Join(", ", features.Select(f => f.Name))}.", "inputs");
                    values[i] = Value(property.Value, features[i], r);
                }
                var missing = features.Where((f, i) => values[i] is null).Select(f => f.Name).ToList();
                if (missing.Count > 0)
                    throw PortalException.Invalid($"inputs[{r}]: missing feature(s) {string.Join(", ", missing)}.", "inputs");
            }
            else
            {
                throw PortalException.Invalid($"inputs[{r}]: expected an array of feature values or an object keyed by feature name.", "inputs");
            }
            rows.Add(values);
        }
        return rows;
    }

    /// <summary>Text models take one string per input, or an object with a "text" property.</summary>
    public static IReadOnlyList<string> Texts(IReadOnlyList<JsonElement> inputs)
    {
        var texts = new List<string>(inputs.Count);
        for (var r = 0; r < inputs.Count; r++)
        {
            var input = inputs[r];
            if (input.ValueKind == JsonValueKind.Object && input.TryGetProperty("text", out var property)) input = property;
            if (input.ValueKind != JsonValueKind.String)
                throw PortalException.Invalid($"inputs[{r}]: a text model takes a string (or {{\"text\": \"...\"}}), got {input.ValueKind.ToString().ToLowerInvariant()}.", "inputs");
            texts.Add(input.GetString()!);
        }
        return texts;
    }

    public static IReadOnlyList<float[]> Images(IReadOnlyList<JsonElement> inputs, ModelSchema schema)
    {
        var shape = schema.ImageShape ?? [1, 28, 28];
        var size = shape.Aggregate(1, (a, b) => a * b);
        var images = new List<float[]>(inputs.Count);
        for (var r = 0; r < inputs.Count; r++)
        {
            var pixels = new List<float>(size);
            Flatten(inputs[r], pixels, r);
            if (pixels.Count != size)
                throw PortalException.Invalid($"inputs[{r}]: expected {size} pixel values ({string.Join("x", shape)}), got {pixels.Count}.", "inputs");
            images.Add(pixels.ToArray());
        }
        return images;
    }

    private static void Flatten(JsonElement element, List<float> into, int row)
    {
        if (element.ValueKind != JsonValueKind.Array)
            throw PortalException.Invalid($"inputs[{row}]: an image is an array of pixel values 0-255 (flat, or rows of pixels).", "inputs");
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
                Flatten(item, into, row);
            else if (item.ValueKind == JsonValueKind.Number && item.TryGetDouble(out var v) && v is >= 0 and <= 255)
                into.Add((float)v);
            else
                throw PortalException.Invalid($"inputs[{row}]: pixel {into.Count} is '{item}'; pixels are numbers from 0 to 255.", "inputs");
        }
    }

    private static object Value(JsonElement cell, FeatureSchema feature, int row)
    {
        if (feature.Kind == FeatureKind.Numeric)
        {
            if (cell.ValueKind == JsonValueKind.Number && cell.TryGetDouble(out var number) && double.IsFinite(number))
                return number;
            if (cell.ValueKind == JsonValueKind.String && double.TryParse(cell.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed))
                return parsed;
            throw PortalException.Invalid($"inputs[{row}], feature '{feature.Name}': {cell.GetRawText()} is not a number.", "inputs");
        }
        return cell.ValueKind switch
        {
            JsonValueKind.String => cell.GetString()!,
            JsonValueKind.Number => cell.GetRawText(),
            _ => throw PortalException.Invalid($"inputs[{row}], feature '{feature.Name}': expected a category (string), got {cell.ValueKind}.", "inputs"),
        };
    }
}
