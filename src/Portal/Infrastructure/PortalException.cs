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
}

/// <summary>
/// The portal's one exception type. The message is shown as-is in the UI and returned as the
/// ProblemDetails detail by the API, so it must name the problem (line, column, field) plainly.
/// </summary>
public sealed class PortalException(PortalError error, string message, string? field = null) : Exception(message)
{
    public PortalError Error { get; } = error;
    public string? Field { get; } = field;
    /// <summary>Every problem found, when a request was checked as a whole (ProblemDetails "errors").</summary>
    public IReadOnlyList<string> Errors { get; private init; } = [message];

    public int StatusCode => Error switch
    {
        PortalError.Invalid => StatusCodes.Status400BadRequest,
        PortalError.NotFound => StatusCodes.Status404NotFound,
        PortalError.Conflict => StatusCodes.Status409Conflict,
        PortalError.TooLarge => StatusCodes.Status413PayloadTooLarge,
        PortalError.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        PortalError.Unauthorized => StatusCodes.Status401Unauthorized,
        PortalError.Forbidden => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status500InternalServerError,
    };

    public string Title => Error switch
    {
        PortalError.Invalid => "Invalid request",
        PortalError.NotFound => "Not found",
        PortalError.Conflict => "Conflict",
        PortalError.TooLarge => "Payload too large",
        PortalError.Unprocessable => "Unprocessable content",
        PortalError.Unauthorized => "Unauthorized",
        PortalError.Forbidden => "Forbidden",
        _ => "Error",
    };

    public static PortalException NotFound(string what) => new(PortalError.NotFound, $"{what} was not found.");
    public static PortalException Invalid(string message, string? field = null) => new(PortalError.Invalid, message, field);

    /// <summary>A 400 naming every problem: the detail joins them, the "errors" extension lists them.</summary>
    public static PortalException InvalidAll(IReadOnlyList<string> problems) =>
        new(PortalError.Invalid, string.Join(" ", problems.Select(p => p.EndsWith('.') ? p : p + "."))) { Errors = problems };
}
