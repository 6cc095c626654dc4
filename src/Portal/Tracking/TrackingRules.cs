using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Tracking;

/// <summary>What a log batch may hold (docs/tracking.md), checked in full before anything is written.</summary>
public static partial class TrackingRules
{
    public const int MaxMetrics = 1000;
    public const int MaxParams = 100;
    public const int MaxTags = 100;
    public const int MaxParamValue = 6000;
    public const int MaxTagValue = 8000;

    /// <summary>Metric, param and tag keys: hierarchical ("val/loss") but never path-like.</summary>
    public static ErrorMessage? KeyProblem(string? key)
    {
        if (key is null || !KeyPattern().IsMatch(key))
            return ErrorMessage.Of($"1-250 letters, digits, spaces, '_', '-', '.' or '/'");
        if (key.StartsWith('/') || key.Split('/').Any(part => part is "" or "." or ".."))
            return ErrorMessage.Of($"no empty, '.' or '..' segment");
        return null;
    }

    public static ValidBatch Validate(LogBatch batch)
    {
        var metrics = batch.Metrics ?? [];
        var parameters = batch.Params ?? [];
        var tags = batch.Tags ?? [];
        if (metrics.Count > MaxMetrics)
            throw PortalException.Invalid($"A batch holds at most {MaxMetrics} metrics; this one holds {metrics.Count}.", "metrics");
        if (parameters.Count > MaxParams)
            throw PortalException.Invalid($"A batch holds at most {MaxParams} params; this one holds {parameters.Count}.", "params");
        if (tags.Count > MaxTags)
            throw PortalException.Invalid($"A batch holds at most {MaxTags} tags; this one holds {tags.Count}.", "tags");

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var points = new List<PointRow>(metrics.Count);
        // A batch repeats a handful of keys many times: each distinct key is checked once.
        var checkedKeys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < metrics.Count; i++)
        {
            var m = metrics[i];
            if (m is null)
                throw PortalException.Invalid($"metrics[{i}] is null.", "metrics");
            if (!checkedKeys.Contains(m.Key) && KeyProblem(m.Key) is { } problem)
                throw PortalException.Invalid($"metrics[{i}]: key '{m.Key}' is not allowed ({problem}).", "metrics");
            if (!double.IsFinite(m.Value))
                throw PortalException.Invalid($"metrics[{i}] ({m.Key}): the value must be a finite number.", "metrics");
            if (m.Step is < 0)
                throw PortalException.Invalid($"metrics[{i}] ({m.Key}): the step must not be negative.", "metrics");
            if (m.Timestamp is < 0)
                throw PortalException.Invalid($"metrics[{i}] ({m.Key}): the timestamp is milliseconds since 1970 and must not be negative.", "metrics");
            checkedKeys.Add(m.Key);
            points.Add(new PointRow(m.Key, m.Step ?? 0, m.Timestamp ?? now, m.Value));
        }

        var paramRows = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < parameters.Count; i++)
        {
            var (key, value) = Pair(parameters[i], i, "params", MaxParamValue);
            if (paramRows.TryGetValue(key, out var earlier) && earlier != value)
                throw new PortalException(PortalError.Conflict, $"params[{i}]: param '{key}' appears twice in this batch with different values.", "params");
            paramRows[key] = value;
        }
        var tagRows = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < tags.Count; i++)
        {
            var (key, value) = Pair(tags[i], i, "tags", MaxTagValue);
            tagRows[key] = value; // the last one wins, as when tags are set one after another
        }
        return new ValidBatch(points, paramRows, tagRows);
    }

    private static (string Key, string Value) Pair(KeyValue? pair, int index, string field, int maxValue)
    {
        if (pair is null)
            throw PortalException.Invalid($"{field}[{index}] is null.", field);
        if (KeyProblem(pair.Key) is { } problem)
            throw PortalException.Invalid($"{field}[{index}]: key '{pair.Key}' is not allowed ({problem}).", field);
        var value = Text(pair.Value)
            ?? throw PortalException.Invalid($"{field}[{index}] ({pair.Key}): the value must be a string, number or boolean.", field);
        if (value.Length > maxValue)
            throw PortalException.Invalid($"{field}[{index}] ({pair.Key}): the value is {value.Length} characters; at most {maxValue} are kept.", field);
        return (pair.Key, value);
    }

    /// <summary>A JSON value as the text we store: strings as they are, numbers as written, booleans in lower case.</summary>
    public static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    /// <summary>The number a param's text stands for, if it is one; filters compare such params numerically.</summary>
    public static double? Number(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? number : null;

    [GeneratedRegex(@"^[A-Za-z0-9_\-./ ]{1,250}$")]
    private static partial Regex KeyPattern();
}

public readonly record struct PointRow(string Key, long Step, long Timestamp, double Value);

public sealed record ValidBatch(IReadOnlyList<PointRow> Points, IReadOnlyDictionary<string, string> Params, IReadOnlyDictionary<string, string> Tags)
{
    public bool IsEmpty => Points.Count == 0 && Params.Count == 0 && Tags.Count == 0;
}
