using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking;

namespace ModelOps.Portal.Runs;

/// <summary>An experiment a run can be started in: its id and name.</summary>
public sealed record ExperimentChoice(int Id, string Name);

/// <summary>
/// The experiments the New Run form offers, and the one it creates inline. Creating goes through the
/// experiments API's own handler (<see cref="ExperimentsApi.Create"/>), so the name rules (required, at most
/// 128 printable characters, unique) and the audit entry are the API's, word for word.
/// </summary>
public static class RunExperiments
{
    /// <summary>The live experiments of <paramref name="teams"/> (the teams the page lists), the default one first.</summary>
    public static async Task<List<ExperimentChoice>> ListAsync(PortalDb db, IReadOnlyCollection<int> teams, CancellationToken ct) =>
        await db.Experiments.AsNoTracking().Where(e => e.DeletedAt == null && teams.Contains(e.TeamId))
            .OrderBy(e => e.Id != Experiment.DefaultId).ThenBy(e => e.Name)
            .Select(e => new ExperimentChoice(e.Id, e.Name)).ToListAsync(ct);

    /// <summary>Creates the experiment as POST /api/v1/experiments would; a bad or taken name is a <see cref="PortalException"/>.</summary>
    public static async Task<ExperimentChoice> CreateAsync(IServiceScopeFactory scopes, string? name, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        // In the team the page works in, with the Editor role there, by the API's own rule for a name.
        var team = await services.GetRequiredService<Identity.Access>().TeamToWriteAsync(Identity.TeamRole.Editor, ct);
        var created = await ExperimentsApi.CreateAsync(services.GetRequiredService<PortalDb>(), services.GetRequiredService<CurrentUser>(), new NewExperiment(name), team, ct);
        return new ExperimentChoice(created.Id, created.Name);
    }
}
