using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Retraining;

/// <summary>
/// A fire's reason kept as its sentence (template and arguments, <see cref="ErrorMessage"/>), so the
/// Schedules page shows it in the reader's language; the English text is kept beside it for the API
/// and the audit trail. Arguments are text, nested sentences, or lists of nested sentences (a recipe's
/// several problems), which are joined with a space.
/// </summary>
public static class FireReason
{
    public static string Serialize(ErrorMessage message) => Node(message).ToJsonString();

    /// <summary>The fire's reason in <paramref name="culture"/>: its stored sentence, else the English text.</summary>
    public static string? Localized(ScheduleFire fire, CultureInfo culture)
    {
        if (fire.ReasonJson is not { Length: > 0 } json) return fire.Reason;
        try
        {
            return Read(JsonNode.Parse(json)!).Localized(culture);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            return fire.Reason;
        }
    }

    /// <summary>Several problems as one argument.</summary>
    public static ErrorMessage Joined(IReadOnlyList<ErrorMessage> parts) =>
        parts.Count == 1 ? parts[0] : ErrorMessage.Compose(string.Join(" ", parts.Select((_, i) => $"{{{i}}}")), [.. parts.Cast<object?>()]);

    private static JsonObject Node(ErrorMessage m) => new()
    {
        ["t"] = m.Template,
        ["raw"] = !m.Translatable,
        ["a"] = new JsonArray([.. m.Arguments.Select(a => a switch
        {
            ErrorMessage nested => (JsonNode)Node(nested),
            null => null,
            IFormattable f => JsonValue.Create(f.ToString(null, CultureInfo.InvariantCulture)),
            _ => JsonValue.Create(a.ToString()),
        })]),
    };

    private static ErrorMessage Read(JsonNode node)
    {
        var template = node["t"]!.GetValue<string>();
        if (node["raw"]?.GetValue<bool>() == true) return ErrorMessage.Raw(template);
        var args = node["a"]!.AsArray().Select(a => a switch
        {
            JsonObject nested => (object?)Read(nested),
            null => null,
            _ => a.GetValue<string>(),
        }).ToArray();
        return ErrorMessage.Compose(template, args);
    }
}
