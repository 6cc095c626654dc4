using System.Globalization;
using System.Runtime.CompilerServices;

namespace ModelOps.Portal.Infrastructure;

/// <summary>What went wrong, in terms a caller can act on; mapped to an HTTP status in one place.</summary>
public enum PortalError
{
    Invalid,
    NotFound,
    Conflict,
    TooLarge,
    Unprocessable,
    Unauthorized,
    Forbidden,
    TooManyRequests,
}

/// <summary>
/// The portal's one exception type. The message names the problem (line, column, field) plainly;
/// it is kept as an English template with its arguments (<see cref="ErrorMessage"/>), so the UI
/// shows <see cref="Localized"/> in the user's language and the API returns it as the
/// ProblemDetails detail in the request's language. <see cref="Exception.Message"/> stays English
/// (logs, tests). Every template must be a key of ErrorText.resx (a test checks the sources).
/// </summary>
public sealed class PortalException : Exception
{
    public PortalException(PortalError error, FormattableString message, string? field = null)
        : this(error, ErrorMessage.Of(message), field)
    {
    }

    public PortalException(PortalError error, ErrorMessage message, string? field = null)
        : this(error, message, [message], field)
    {
    }

    private PortalException(PortalError error, ErrorMessage message, IReadOnlyList<ErrorMessage> problems, string? field)
        : base(message.English)
    {
        Error = error;
        Field = field;
        Text = message;
        Problems = problems;
        Errors = problems.Select(p => p.English).ToList();
    }

    public PortalError Error { get; }
    public string? Field { get; }
    /// <summary>The message as template and arguments.</summary>
    public ErrorMessage Text { get; }
    /// <summary>Every problem found, when a request was checked as a whole (ProblemDetails "errors").</summary>
    public IReadOnlyList<ErrorMessage> Problems { get; }
    /// <summary>The problems in English (<see cref="LocalizedErrors"/> for the user's language).</summary>
    public IReadOnlyList<string> Errors { get; }

    public int StatusCode => Error switch
    {
        PortalError.Invalid => StatusCodes.Status400BadRequest,
        PortalError.NotFound => StatusCodes.Status404NotFound,
        PortalError.Conflict => StatusCodes.Status409Conflict,
        PortalError.TooLarge => StatusCodes.Status413PayloadTooLarge,
        PortalError.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        PortalError.Unauthorized => StatusCodes.Status401Unauthorized,
        PortalError.Forbidden => StatusCodes.Status403Forbidden,
        PortalError.TooManyRequests => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The English ProblemDetails title; <see cref="LocalizedTitle"/> translates it.</summary>
    public string Title => Error switch
    {
        PortalError.Invalid => "Invalid request",
        PortalError.NotFound => "Not found",
        PortalError.Conflict => "Conflict",
        PortalError.TooLarge => "Payload too large",
        PortalError.Unprocessable => "Unprocessable content",
        PortalError.Unauthorized => "Unauthorized",
        PortalError.Forbidden => "Forbidden",
        PortalError.TooManyRequests => "Too many requests",
        _ => "Error",
    };

    /// <summary>The message in <paramref name="culture"/>; the UI shows <c>ex.Localized(CultureInfo.CurrentUICulture)</c>.</summary>
    public string Localized(CultureInfo culture) =>
        Problems.Count == 1 ? Text.Localized(culture) : Join(LocalizedErrors(culture), culture);

    /// <summary>Each problem in <paramref name="culture"/>.</summary>
    public IReadOnlyList<string> LocalizedErrors(CultureInfo culture) => Problems.Select(p => p.Localized(culture)).ToList();

    public string LocalizedTitle(CultureInfo culture) => ErrorMessage.Translate(Title, culture);

    /// <summary><paramref name="what"/> + " was not found." (the template "Run {0} was not found.").</summary>
    public static PortalException NotFound(FormattableString what) =>
        new(PortalError.NotFound, FormattableStringFactory.Create(what.Format + " was not found.", what.GetArguments()));

    public static PortalException Invalid(FormattableString message, string? field = null) => new(PortalError.Invalid, message, field);
    public static PortalException Invalid(ErrorMessage message, string? field = null) => new(PortalError.Invalid, message, field);

    /// <summary>A 400 naming every problem: the detail joins them, the "errors" extension lists them.</summary>
    public static PortalException InvalidAll(IReadOnlyList<ErrorMessage> problems)
    {
        var english = ErrorMessage.Raw(Join(problems.Select(p => p.English), CultureInfo.GetCultureInfo(PortalCultures.English)));
        return new(PortalError.Invalid, problems.Count == 1 ? problems[0] : english, problems, field: null);
    }

    private static string Join(IEnumerable<string> sentences, CultureInfo culture)
    {
        var chinese = culture.Name.StartsWith("zh", StringComparison.OrdinalIgnoreCase);
        return string.Join(chinese ? "" : " ", sentences.Select(s =>
            s.EndsWith('.') || s.EndsWith('。') || s.EndsWith('？') || s.EndsWith('?') ? s : s + (chinese ? "。" : ".")));
    }
}
