using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ModelOps.Engine;
using ModelOps.Engine.Models;

namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// The one place where failures become HTTP statuses. The detail is the same sentence the UI
/// shows, in the request's language (<see cref="PortalCultures.Of"/>); unexpected exceptions
/// become a 500 without internals. Minimal-API binding failures arrive here too, because
/// <see cref="PortalSetup"/> makes the framework throw them (RouteHandlerOptions.ThrowOnBadRequest)
/// instead of writing an empty 400; <see cref="ApiStatusPages"/> covers the 4xx nobody threw.
/// </summary>
public sealed partial class ProblemDetailsMapping(IProblemDetailsService problems, ILogger<ProblemDetailsMapping> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var culture = PortalCultures.Of(http);
        var (status, title, detail) = exception switch
        {
            PortalException p => (p.StatusCode, p.Title, p.Text),
            InvalidModelInputException m => (StatusCodes.Status400BadRequest, "Invalid input", ErrorMessage.Raw(m.Message)),
            BadHttpRequestException b when b.StatusCode == StatusCodes.Status413PayloadTooLarge =>
                (413, "Payload too large", ErrorMessage.Of($"The request body is larger than the limit.")),
            BadHttpRequestException b => (b.StatusCode, "Invalid request", Explain(b)),
            JsonException j => (400, "Invalid JSON", Explain(j)),
            EngineException e => (StatusCodes.Status500InternalServerError, "Model error", ErrorMessage.Raw(e.Message)),
            _ => (StatusCodes.Status500InternalServerError, "Unexpected error", ErrorMessage.Of($"The portal hit an unexpected error; it has been logged.")),
        };
        if (status >= 500)
            log.LogError(exception, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
        http.Response.StatusCode = status;
        var details = new ProblemDetails
        {
            Status = status,
            Title = ErrorMessage.Translate(title, culture),
            Detail = exception is PortalException portal ? portal.Localized(culture) : detail.Localized(culture),
            Instance = http.Request.Path,
        };
        if (exception is PortalException { Field: { } field })
            details.Extensions["field"] = field;
        if (exception is PortalException { Error: PortalError.Invalid } invalid)
            details.Extensions["errors"] = invalid.LocalizedErrors(culture);
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = details, Exception = exception });
    }

    /// <summary>A sentence for what the framework refused while binding the request.</summary>
    public static ErrorMessage Explain(BadHttpRequestException b)
    {
        if (b.InnerException is JsonException json)
            return Explain(json);
        var message = b.Message;
        if (FailedToBind().Match(message) is { Success: true } bind)
            return TypeWord(bind.Groups["type"].Value) is { } expected
                ? ErrorMessage.Of($"'{bind.Groups["value"].Value}' is not a valid value for '{bind.Groups["name"].Value}' (expected {expected}).")
                : ErrorMessage.Of($"'{bind.Groups["value"].Value}' is not a valid value for '{bind.Groups["name"].Value}'.");
        if (RequiredMissing().Match(message) is { Success: true } missing)
            return ErrorMessage.Of($"The required value '{missing.Groups["name"].Value}' is missing from the {missing.Groups["source"].Value}.");
        if (message.StartsWith("Implicit body inferred", StringComparison.Ordinal) || message.Contains("but no body was provided", StringComparison.Ordinal))
            return ErrorMessage.Of($"The request needs a JSON body.");
        if (MediaType().Match(message) is { Success: true } media)
            return ErrorMessage.Of($"Send the body as JSON (Content-Type: application/json); the request said '{media.Groups["type"].Value}'.");
        if (message.StartsWith("Failed to read parameter", StringComparison.Ordinal))
            return ErrorMessage.Of($"The request body could not be read as JSON.");
        return ErrorMessage.Raw(message);
    }

    /// <summary>
    /// A sentence for a JSON body the serializer refused, naming the field and where it is
    /// (System.Text.Json counts lines and bytes from 0; people count from 1).
    /// </summary>
    public static ErrorMessage Explain(JsonException json)
    {
        var line = (json.LineNumber ?? 0) + 1;
        var position = (json.BytePositionInLine ?? 0) + 1;
        var field = Field(json.Path);
        var text = json.Message;
        var cut = text.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = text.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var problem = (cut >= 0 ? text[..cut] : text).Trim();
        if (problem.StartsWith("'N' is an invalid start of a value", StringComparison.Ordinal))
            return ErrorMessage.Of($"NaN is not a number JSON accepts; send null or leave the field out (line {line}, position {position}).");
        if (problem.StartsWith("'I' is an invalid start of a value", StringComparison.Ordinal) || problem.StartsWith("'-' is invalid within a number", StringComparison.Ordinal))
            return ErrorMessage.Of($"Infinity is not a number JSON accepts; send a finite number, null, or leave the field out (line {line}, position {position}).");
        if (ConvertFailed().Match(problem) is { Success: true } convert)
        {
            // For a record's constructor parameter the serializer names the record, not the field's type.
            var expected = TypeWord(convert.Groups["type"].Value);
            return (field, expected) switch
            {
                (null, null) => ErrorMessage.Of($"The request body has the wrong shape (line {line}, position {position})."),
                (null, _) => ErrorMessage.Of($"The request body has the wrong shape: expected {expected} (line {line}, position {position})."),
                (_, null) => ErrorMessage.Of($"The field '{field}' has a value of the wrong type (line {line}, position {position})."),
                _ => ErrorMessage.Of($"The field '{field}' has the wrong type: expected {expected} (line {line}, position {position})."),
            };
        }
        if (problem.StartsWith("The input does not contain any JSON tokens", StringComparison.Ordinal))
            return ErrorMessage.Of($"The request body is empty; send a JSON object.");
        return ErrorMessage.Of($"The request body is not valid JSON: {problem} (line {line}, position {position}).");
    }

    private static string? Field(string? path) =>
        path is null or "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    /// <summary>What a CLR type is called in a sentence about JSON; a nested message, so it is translated too.</summary>
    private static ErrorMessage? TypeWord(string type)
    {
        var name = type.Replace("System.Nullable`1[", "").TrimEnd(']');
        name = name[(name.LastIndexOf('.') + 1)..];
        return name switch
        {
            "Int32" or "Int64" or "Int16" or "Byte" or "UInt32" or "UInt64" or "int" or "long" => ErrorMessage.Of($"a whole number"),
            "Double" or "Single" or "Decimal" or "double" or "float" or "decimal" => ErrorMessage.Of($"a number"),
            "String" or "string" => ErrorMessage.Of($"a string"),
            "Boolean" or "bool" => ErrorMessage.Of($"true or false"),
            "DateTime" or "DateTimeOffset" => ErrorMessage.Of($"a date and time (ISO 8601)"),
            "Guid" => ErrorMessage.Of($"a GUID"),
            _ when name.StartsWith("List`1", StringComparison.Ordinal) || name.StartsWith("IReadOnlyList`1", StringComparison.Ordinal) || name.EndsWith("[]", StringComparison.Ordinal)
                => ErrorMessage.Of($"an array"),
            _ when name.StartsWith("Dictionary`2", StringComparison.Ordinal) => ErrorMessage.Of($"an object"),
            _ => null,
        };
    }

    [GeneratedRegex("^Failed to bind parameter \"(?<type>[^ \"]+) (?<name>[^\"]+)\" from \"(?<value>[^\"]*)\"")]
    private static partial Regex FailedToBind();

    [GeneratedRegex("^Required parameter \"(?<type>[^ \"]+) (?<name>[^\"]+)\" was not provided from (?<source>[a-z ]+?)\\.?$")]
    private static partial Regex RequiredMissing();

    [GeneratedRegex("^Expected a supported JSON media type but got \"(?<type>[^\"]*)\"")]
    private static partial Regex MediaType();

    [GeneratedRegex("^The JSON value could not be converted to (?<type>\\S+?)\\.?$")]
    private static partial Regex ConvertFailed();
}

/// <summary>
/// A 4xx that ends with no body on an API route (no endpoint: 404, wrong method: 405, or a
/// status some middleware set without writing) gets a ProblemDetails with a sentence too.
/// The UI's pages are left to Blazor.
/// </summary>
public static class ApiStatusPages
{
    public static async Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        if (!http.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || http.Response.StatusCode is < 400 or >= 500)
            return;
        var culture = PortalCultures.Of(http);
        var status = http.Response.StatusCode;
        var method = http.Request.Method;
        var path = http.Request.Path.Value ?? "";
        var allow = http.Response.Headers.Allow.ToString();
        var (title, detail) = status switch
        {
            404 => ("Not found", ErrorMessage.Of($"No API endpoint answers {method} {path}; the routes are listed at /api/v1/openapi.json.")),
            405 when allow.Length > 0 => ("Method not allowed", ErrorMessage.Of($"{method} is not allowed on {path}; it accepts {allow}.")),
            405 => ("Method not allowed", ErrorMessage.Of($"{method} is not allowed on {path}.")),
            415 => ("Unsupported media type", ErrorMessage.Of($"The request body's Content-Type is not one {path} accepts; send JSON (application/json).")),
            401 => ("Unauthorized", ErrorMessage.Of($"This request needs credentials.")),
            403 => ("Forbidden", ErrorMessage.Of($"This request is not allowed with these credentials.")),
            _ => ("Invalid request", ErrorMessage.Of($"The request was refused with status {status}.")),
        };
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = ErrorMessage.Translate(title, culture), Detail = detail.Localized(culture), Instance = path },
        });
    }

}
