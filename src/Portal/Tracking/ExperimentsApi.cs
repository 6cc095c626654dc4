using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Tracking;

public sealed record NewExperiment(string? Name, string? Description = null, Dictionary<string, JsonElement>? Tags = null);

/// <summary>A patch: absent fields stay; a tag set to null is removed.</summary>
public sealed record ExperimentPatch(string? Name = null, string? Description = null, Dictionary<string, JsonElement>? Tags = null);

public sealed record ExperimentView(
    int Id, string Name, string? Description, string Owner, IReadOnlyDictionary<string, string> Tags,
    DateTime CreatedAt, DateTime UpdatedAt, int RunCount, int TeamId = Identity.Team.DefaultId);

public static class ExperimentsApi
{
    public static RouteGroupBuilder MapExperimentsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/experiments").WithTags("Experiments");
        group.MapPost("/", Create);
        group.MapGet("/", List);
        group.MapGet("/{id:int}", Get);
        group.MapPatch("/{id:int}", Update);
        group.MapDelete("/{id:int}", Delete);
        return api;
    }

    public static async Task<IResult> Create(NewExperiment request, HttpContext http, PortalDb db, CurrentUser user, Identity.Access access, CancellationToken ct)
    {
        Caller.RefuseWorkers(http, $"A worker's token writes only its own run.");
        var created = await CreateAsync(db, user, request, await access.TeamToWriteAsync(Identity.TeamRole.Editor, ct), ct);
        return TypedResults.Created($"/api/v1/experiments/{created.Id}", created);
    }

    /// <summary>
    /// Creates an experiment: the one rule for a name and a description, shared by POST /experiments and the
    /// Experiments page's "New experiment" dialog, so both refuse the same input with the same sentence.
    /// </summary>
    public static async Task<ExperimentView> CreateAsync(PortalDb db, CurrentUser user, NewExperiment request, int teamId, CancellationToken ct)
    {
        var name = Names.Experiment(request.Name);
        if (await db.Experiments.AnyAsync(e => e.Name == name, ct))
            throw new PortalException(PortalError.Conflict, $"An experiment named '{name}' exists already.", "name");
        var now = DateTime.UtcNow;
        var experiment = new Experiment
        {
            Name = name, TeamId = teamId, Description = Description(request.Description), Owner = user.Name, CreatedAt = now, UpdatedAt = now,
            Tags = Tags(request.Tags).Where(t => t.Value is not null).Select(t => new ExperimentTag { Key = t.Key, Value = t.Value! }).ToList(),
        };
        db.Experiments.Add(experiment);
        db.AuditEvents.Add(new AuditEvent { At = now, Actor = user.Name, Action = "experiment.created", Subject = $"experiment:{name}", TeamId = teamId });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            throw new PortalException(PortalError.Conflict, $"An experiment named '{name}' exists already.", "name");
        }
        return await Get(experiment.Id, db, ct);
    }

    public static async Task<IReadOnlyList<ExperimentView>> List(PortalDb db, Identity.Access access, CancellationToken ct)
    {
        var teams = await access.ListTeamsAsync(ct);
        var experiments = await db.Experiments.AsNoTracking().Include(e => e.Tags).Where(e => e.DeletedAt == null && teams.Contains(e.TeamId)).OrderBy(e => e.Name).ToListAsync(ct);
        var counts = await db.Runs.Where(r => r.DeletedAt == null).GroupBy(r => r.ExperimentId)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        return experiments.Select(e => View(e, counts.GetValueOrDefault(e.Id))).ToList();
    }

    public static async Task<ExperimentView> Get(int id, PortalDb db, CancellationToken ct)
    {
        var experiment = await db.Experiments.AsNoTracking().Include(e => e.Tags).FirstOrDefaultAsync(e => e.Id == id && e.DeletedAt == null, ct)
            ?? throw PortalException.NotFound($"Experiment {id}");
        var count = await db.Runs.CountAsync(r => r.ExperimentId == id && r.DeletedAt == null, ct);
        return View(experiment, count);
    }

    public static async Task<ExperimentView> Update(int id, ExperimentPatch patch, HttpContext http, PortalDb db, CurrentUser user, CancellationToken ct)
    {
        Caller.RefuseWorkers(http, $"A worker's token writes only its own run.");
        var experiment = await db.Experiments.Include(e => e.Tags).FirstOrDefaultAsync(e => e.Id == id && e.DeletedAt == null, ct)
            ?? throw PortalException.NotFound($"Experiment {id}");
        if (patch.Name is not null)
        {
            var name = Names.Experiment(patch.Name);
            if (name != experiment.Name && await db.Experiments.AnyAsync(e => e.Name == name, ct))
                throw new PortalException(PortalError.Conflict, $"An experiment named '{name}' exists already.", "name");
            experiment.Name = name;
        }
        if (patch.Description is not null) experiment.Description = Description(patch.Description);
        foreach (var (key, value) in Tags(patch.Tags))
        {
            var existing = experiment.Tags.FirstOrDefault(t => t.Key == key);
            if (value is null)
            {
                if (existing is not null) experiment.Tags.Remove(existing);
            }
            else if (existing is null) experiment.Tags.Add(new ExperimentTag { Key = key, Value = value });
            else existing.Value = value;
        }
        experiment.UpdatedAt = DateTime.UtcNow;
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "experiment.updated", Subject = $"experiment:{experiment.Name}", TeamId = experiment.TeamId, Before = AuditStates.Experiment(db, experiment, original: true), After = AuditStates.Experiment(db, experiment, original: false) });
        await db.SaveChangesAsync(ct);
        return await Get(id, db, ct);
    }

    public static async Task<IResult> Delete(int id, HttpContext http, PortalDb db, CurrentUser user, CancellationToken ct)
    {
        Caller.RefuseWorkers(http, $"A worker's token writes only its own run.");
        var experiment = await db.Experiments.FirstOrDefaultAsync(e => e.Id == id && e.DeletedAt == null, ct)
            ?? throw PortalException.NotFound($"Experiment {id}");
        if (id == Experiment.DefaultId)
            throw new PortalException(PortalError.Conflict, $"The Default experiment holds runs that name no other; it cannot be deleted.");
        if (await db.Runs.AnyAsync(r => r.ExperimentId == id && r.Kind == Runs.RunKind.Training && r.DeletedAt == null
                && (r.Status == Runs.RunStatus.Queued || r.Status == Runs.RunStatus.Running), ct))
            throw new PortalException(PortalError.Conflict, $"Experiment '{experiment.Name}' has runs in the queue or training; cancel them first.");
        experiment.DeletedAt = DateTime.UtcNow;
        // The name is freed for a new experiment; the deleted one keeps a unique, recognisable name.
        experiment.Name = $"{experiment.Name} (deleted {experiment.Id})";
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = user.Name, Action = "experiment.deleted", Subject = $"experiment:{id}", TeamId = experiment.TeamId, Before = experiment.Name });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static ExperimentView View(Experiment e, int runs) => new(
        e.Id, e.Name, e.Description, e.Owner, e.Tags.OrderBy(t => t.Key).ToDictionary(t => t.Key, t => t.Value), e.CreatedAt, e.UpdatedAt, runs, e.TeamId);

    private static string? Description(string? text) =>
        text is { Length: > 5000 } ? throw PortalException.Invalid($"A description holds at most 5,000 characters.", "description") : text?.Trim();

    private static IEnumerable<KeyValuePair<string, string?>> Tags(Dictionary<string, JsonElement>? tags)
    {
        if (tags is null) yield break;
        if (tags.Count > TrackingRules.MaxTags)
            throw PortalException.Invalid($"At most {TrackingRules.MaxTags} tags at a time.", "tags");
        foreach (var (key, value) in tags)
        {
            if (TrackingRules.KeyProblem(key) is { } problem)
                throw PortalException.Invalid($"Tag key '{key}' is not allowed ({problem}).", "tags");
            if (value.ValueKind == JsonValueKind.Null)
            {
                yield return new(key, null);
                continue;
            }
            var text = TrackingRules.Text(value) ?? throw PortalException.Invalid($"Tag '{key}': the value must be a string, number or boolean.", "tags");
            if (text.Length > TrackingRules.MaxTagValue)
                throw PortalException.Invalid($"Tag '{key}': at most {TrackingRules.MaxTagValue} characters.", "tags");
            yield return new(key, text);
        }
    }

}
