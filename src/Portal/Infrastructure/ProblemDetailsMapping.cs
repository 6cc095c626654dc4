using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ModelOps.Engine;
using ModelOps.Engine.Models;

namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// The one place where failures become HTTP statuses. The detail is the same sentence the UI
/// shows; unexpected exceptions become a 500 without internals.
/// </summary>
public sealed class ProblemDetailsMapping(IProblemDetailsService problems, ILogger<ProblemDetailsMapping> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, title, detail) = exception switch
        {
            PortalException p => (p.StatusCode, p.Title, p.Message),
            InvalidModelInputException m => (StatusCodes.Status400BadRequest, "Invalid input", m.Message),
            BadHttpRequestException b when b.StatusCode == StatusCodes.Status413PayloadTooLarge => (413, "Payload too large", "The request body is larger than the limit."),
            BadHttpRequestException b => (b.StatusCode, "Invalid request", b.Message),
            System.Text.Json.JsonException j => (400, "Invalid JSON", j.Message),
            EngineException e => (StatusCodes.Status500InternalServerError, "Model error", e.Message),
            _ => (StatusCodes.Status500InternalServerError, "Unexpected error", "The portal hit an unexpected error; it has been logged."),
        };
        if (status >= 500)
            log.LogError(exception, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
        http.Response.StatusCode = status;
        var details = new ProblemDetails { Status = status, Title = title, Detail = detail, Instance = http.Request.Path };
        if (exception is PortalException { Field: { } field })
            details.Extensions["field"] = field;
        if (exception is PortalException { Error: PortalError.Invalid } invalid)
            details.Extensions["errors"] = invalid.Errors;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = details, Exception = exception });
    }
}
