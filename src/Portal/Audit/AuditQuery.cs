using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Audit;

/// <summary>
/// What the Audit page and GET /api/v1/audit filter on. <paramref name="Person"/>: part of the actor's name, any case.
/// <paramref name="Resource"/>: part of the subject ("model:churn" finds every version of churn).
/// <paramref name="Action"/>: the start of the action ("model." finds every model action).
/// <paramref name="From"/>/<paramref name="To"/>: inclusive, UTC; a <paramref name="To"/> at midnight means through the end of that day.
/// <paramref name="Teams"/>: null for no team restriction, else only events of those teams.
/// </summary>
public sealed record AuditFilter(
    string? Person = null,
    string? Resource = null,
    string? Action = null,
    DateTime? From = null,
    DateTime? To = null,
    IReadOnlyCollection<int>? Teams = null);

/// <summary>One audit event as the page, the API and the CSV show it.</summary>
public sealed record AuditRow(long Id, DateTime At, string Actor, string Action, string Subject, string? ResourceType,
    string? Before, string? After, string? Details, int? TeamId);

/// <summary>The columns an audit list can be ordered by; ties break on id, in the same direction.</summary>
public enum AuditOrder { At, Actor, Action, Resource }

/// <summary>The audit trail, filtered, ordered and paged in SQL; the export streams it row by row.</summary>
public sealed class AuditQuery(PortalDb db)
{
    public const int MaxTake = 1000;
    public const int MaxFilterLength = 200;

    /// <summary>One page (newest first unless told otherwise) and the count of every event the filter matches.</summary>
    public async Task<(IReadOnlyList<AuditRow> Rows, int Total)> PageAsync(AuditFilter filter, int skip, int take,
        AuditOrder order = AuditOrder.At, bool descending = true, CancellationToken ct = default)
    {
        if (skip < 0)
            throw PortalException.Invalid($"skip must be 0 or more.", "skip");
        if (take is < 1 or > MaxTake)
            throw PortalException.Invalid($"take must be between 1 and {MaxTake}.", "take");
        var query = Filtered(filter);
        var total = await query.CountAsync(ct);
        var rows = await Ordered(query, order, descending).Skip(skip).Take(take).Select(Row).ToListAsync(ct);
        return (rows, total);
    }

    /// <summary>Every event the filter matches, newest first, read from the database as it is consumed.</summary>
    public IAsyncEnumerable<AuditRow> StreamAsync(AuditFilter filter) =>
        Ordered(Filtered(filter), AuditOrder.At, descending: true).Select(Row).AsAsyncEnumerable();

    /// <summary>Checks a filter; the API calls it before it starts writing an export, so a bad one is still a 400.</summary>
    public static void Validate(AuditFilter filter)
    {
        Length(filter.Person, "person");
        Length(filter.Resource, "resource");
        Length(filter.Action, "action");
        if (filter.From is { } from && filter.To is { } to && Utc(from) > Utc(to))
            throw PortalException.Invalid($"The date range starts after it ends: from {Iso(from)} is later than to {Iso(to)}.", "from");
    }

    private static void Length(string? value, string field)
    {
        if (value is { Length: > MaxFilterLength })
            throw PortalException.Invalid($"The {field} filter is longer than {MaxFilterLength} characters.", field);
    }

    private IQueryable<AuditEvent> Filtered(AuditFilter filter)
    {
        Validate(filter);
        var query = db.AuditEvents.AsNoTracking();
        if (Text(filter.Person) is { } person)
            query = query.Where(a => EF.Functions.Like(a.Actor, "%" + Escape(person) + "%", "\\"));
        if (Text(filter.Resource) is { } resource)
            query = query.Where(a => EF.Functions.Like(a.Subject, "%" + Escape(resource) + "%", "\\"));
        if (Text(filter.Action) is { } action)
            query = query.Where(a => EF.Functions.Like(a.Action, Escape(action) + "%", "\\"));
        if (filter.From is { } from)
        {
            var start = Utc(from);
            query = query.Where(a => a.At >= start);
        }
        if (filter.To is { } to)
        {
            var end = Utc(to);
            if (end.TimeOfDay == TimeSpan.Zero)
            {
                // A date: the whole of that day.
                var next = end.AddDays(1);
                query = query.Where(a => a.At < next);
            }
            else
            {
                query = query.Where(a => a.At <= end);
            }
        }
        if (filter.Teams is { } teams)
        {
            var ids = teams.ToList();
            query = query.Where(a => a.TeamId != null && ids.Contains(a.TeamId.Value));
        }
        return query;
    }

    private static IQueryable<AuditEvent> Ordered(IQueryable<AuditEvent> query, AuditOrder order, bool descending) => (order, descending) switch
    {
        (AuditOrder.Actor, false) => query.OrderBy(a => a.Actor).ThenBy(a => a.Id),
        (AuditOrder.Actor, true) => query.OrderByDescending(a => a.Actor).ThenByDescending(a => a.Id),
        (AuditOrder.Action, false) => query.OrderBy(a => a.Action).ThenBy(a => a.Id),
        (AuditOrder.Action, true) => query.OrderByDescending(a => a.Action).ThenByDescending(a => a.Id),
        (AuditOrder.Resource, false) => query.OrderBy(a => a.Subject).ThenBy(a => a.Id),
        (AuditOrder.Resource, true) => query.OrderByDescending(a => a.Subject).ThenByDescending(a => a.Id),
        (_, false) => query.OrderBy(a => a.At).ThenBy(a => a.Id),
        _ => query.OrderByDescending(a => a.At).ThenByDescending(a => a.Id),
    };

    private static readonly System.Linq.Expressions.Expression<Func<AuditEvent, AuditRow>> Row = a =>
        new AuditRow(a.Id, a.At, a.Actor, a.Action, a.Subject, a.ResourceType, a.Before, a.After, a.Details, a.TeamId);

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>LIKE matches what was typed: '%', '_' and the escape itself are literal.</summary>
    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    /// <summary>Times are UTC; one without a kind is read as UTC, never as the server's local time.</summary>
    internal static DateTime Utc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    private static string Iso(DateTime value) => Utc(value).ToString(Utc(value).TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd'T'HH:mm:ss'Z'",
        System.Globalization.CultureInfo.InvariantCulture);
}
