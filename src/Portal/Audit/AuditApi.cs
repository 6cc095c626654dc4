using System.Globalization;
using System.Text;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Audit;

/// <summary>GET /api/v1/audit's answer: one page and the count of every matching event.</summary>
public sealed record AuditList(IReadOnlyList<AuditRow> Items, int Total);

/// <summary>
/// The audit trail over REST: GET /api/v1/audit (filtered, paged) and GET /api/v1/audit/export.csv (the same
/// filters, every matching event, streamed). A bad query is a 400 ProblemDetails.
/// </summary>
public static class AuditApi
{
    public static RouteGroupBuilder MapAuditApi(this RouteGroupBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit");
        audit.MapGet("/", List);
        audit.MapGet("/export.csv", Export);
        return api;
    }

    /// <summary>
    /// The teams whose events the caller may read: null means every event. The seam for sign-in and teams: the
    /// integrator replaces this one method (e.g. Admins get null, an Approver the ids of their teams); both
    /// endpoints and nothing else take their restriction from it.
    /// </summary>
    public static Task<IReadOnlyCollection<int>?> AuditScope(HttpContext http) =>
        http.RequestServices.GetRequiredService<Identity.Access>().AuditScopeAsync(http.RequestAborted);

    public static async Task<AuditList> List(HttpContext http, AuditQuery query, string? person = null, string? resource = null, string? action = null,
        string? from = null, string? to = null, int? skip = null, int? take = null, string? order = null, bool? desc = null, CancellationToken ct = default)
    {
        Caller.RefuseWorkers(http, $"A worker's token cannot read the audit trail.");
        var filter = await FilterAsync(http, person, resource, action, from, to);
        var (rows, total) = await query.PageAsync(filter, skip ?? 0, take ?? 50, Order(order), desc ?? true, ct);
        return new AuditList(rows, total);
    }

    public static async Task<IResult> Export(HttpContext http, AuditQuery query, string? person = null, string? resource = null, string? action = null,
        string? from = null, string? to = null)
    {
        Caller.RefuseWorkers(http, $"A worker's token cannot read the audit trail.");
        var filter = await FilterAsync(http, person, resource, action, from, to);
        // Checked before the first byte, so a bad filter is still a 400 and not a broken download.
        AuditQuery.Validate(filter);
        var name = $"audit-{DateTime.UtcNow.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}.csv";
        return Results.Stream(async body =>
        {
            // A byte-order mark, so a spreadsheet reads names in any script as UTF-8.
            await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), bufferSize: 16 * 1024);
            await AuditCsv.WriteAsync(writer, query.StreamAsync(filter), http.RequestAborted);
        }, "text/csv; charset=utf-8", name);
    }

    private static async Task<AuditFilter> FilterAsync(HttpContext http, string? person, string? resource, string? action, string? from, string? to) =>
        new(person, resource, action, Date(from, "from"), Date(to, "to"), await AuditScope(http));

    /// <summary>"2026-12-01" (a whole day when it ends a range) or an ISO 8601 time; no offset means UTC.</summary>
    internal static DateTime? Date(string? text, string field)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (DateTime.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var value))
            return DateTime.SpecifyKind(value, DateTimeKind.Utc);
        throw PortalException.Invalid($"'{text}' is not a date or time; write it in ISO 8601, such as 2026-12-01 or 2026-12-01T13:00:00Z.", field);
    }

    private static AuditOrder Order(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return AuditOrder.At;
        if (Enum.TryParse<AuditOrder>(text.Trim(), ignoreCase: true, out var order) && Enum.IsDefined(order)) return order;
        throw PortalException.Invalid($"order must be one of at, actor, action, resource.", "order");
    }
}
