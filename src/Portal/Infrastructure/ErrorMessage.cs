using System.Globalization;
using System.Resources;

namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// A sentence kept as its English composite-format template and its arguments, so it can be
/// written in any of the portal's languages. The template is the key into <see cref="ErrorText"/>;
/// a template without a translation falls back to English. A raw sentence (an engine's or a
/// library's message) is shown as it is in every language.
/// </summary>
public sealed class ErrorMessage
{
    private static readonly ResourceManager Texts = new(typeof(ErrorText));
    private static readonly CultureInfo EnglishCulture = CultureInfo.GetCultureInfo(PortalCultures.English);
    private readonly object?[] arguments;

    private ErrorMessage(string template, object?[] arguments, bool translatable)
    {
        Template = template;
        this.arguments = arguments;
        Translatable = translatable;
    }

    /// <summary>The English template ("Run {0} was not found."), or the raw sentence.</summary>
    public string Template { get; }
    public IReadOnlyList<object?> Arguments => arguments;
    /// <summary>False for a raw sentence that came from elsewhere and is never looked up.</summary>
    public bool Translatable { get; }

    public static ErrorMessage Of(FormattableString text) => new(text.Format, text.GetArguments(), translatable: true);
    public static ErrorMessage Raw(string sentence) => new(sentence, [], translatable: false);

    /// <summary>A translatable sentence rebuilt from a stored template and its arguments (Retraining.FireReason).</summary>
    public static ErrorMessage Compose(string template, object?[] arguments) => new(template, arguments, translatable: true);

    public string English => Localized(EnglishCulture);

    /// <summary>The sentence in <paramref name="culture"/> (its UI language), arguments formatted in that culture.</summary>
    public string Localized(CultureInfo culture)
    {
        if (!Translatable)
            return Template;
        var args = Array.ConvertAll(arguments, a => a is ErrorMessage nested ? nested.Localized(culture) : a);
        var template = Translate(Template, culture);
        try
        {
            return string.Format(culture, template, args);
        }
        catch (FormatException) when (!ReferenceEquals(template, Template))
        {
            // A translation with a broken placeholder must not hide the error itself.
            return string.Format(culture, Template, args);
        }
    }

    /// <summary>The translation of one English text (a template or a fixed title); English when there is none.</summary>
    public static string Translate(string english, CultureInfo culture)
    {
        try
        {
            return Texts.GetString(english, culture) is { Length: > 0 } text ? text : english;
        }
        catch (MissingManifestResourceException)
        {
            return english;
        }
    }

    public override string ToString() => English;
}
