using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Retraining;

/// <summary>A schedule as the API returns it: the recipe, its triggers and gate, the next fires, the last fire and the cost of its runs.</summary>
public sealed record ScheduleDto(
    int Id, string Name, string? Description, int DatasetId, string Dataset, int? DatasetVersion,
    string? FineTuneModel, int? FineTuneVersion, Engine.Training.TrainingOptions Options, string TargetModel, int ExperimentId,
    string? Cron, string TimeZone, bool OnNewDatasetVersion, bool AllowOverlap, bool Paused,
    string GateMode, string GateMetric, double GateMargin,
    IReadOnlyList<DateTimeOffset> NextFires, FireDto? LastFire, int Fires, int Runs, ComputeView Compute, string? Problem,
    DateTime CreatedAt, string CreatedBy, DateTime UpdatedAt, string UpdatedBy)
{
    public static ScheduleDto From(ScheduleView v)
    {
        var s = v.Schedule;
        return new(s.Id, s.Name, s.Description, s.DatasetId, s.DatasetName, s.DatasetVersion, s.FineTuneModel, s.FineTuneVersion,
            ScheduleService.OptionsOf(s), s.TargetModel, s.ExperimentId, s.Cron, s.TimeZone, s.OnNewDatasetVersion, s.AllowOverlap, s.Paused,
            s.GateMode, s.GateMetric, s.GateMargin, v.NextFires, v.LastFire is { } f ? FireDto.From(new FireView(f, null, null)) : null,
            v.Fires, v.Runs, v.Compute, v.Problem, s.CreatedAt, s.CreatedBy, s.UpdatedAt, s.UpdatedBy);
    }
}

/// <summary>One fire: trigger, run, outcome, and the gate's figures (the Production version's on the candidate's test data).</summary>
public sealed record FireDto(
    long Id, DateTime FiredAt, string Trigger, string? TriggerDetail, int? RunId, string? RunStatus, string Outcome, string? Reason,
    string? Metric, double? CandidateValue, double? ProductionValue, int? ProductionVersion, int? ModelVersion, DateTime? DecidedAt, ComputeView? Compute)
{
    public static FireDto From(FireView v)
    {
        var f = v.Fire;
        return new(f.Id, f.FiredAt, f.Trigger, f.TriggerDetail, f.RunId, v.RunStatus?.ToString(), f.Outcome, f.Reason,
            f.Metric, f.CandidateValue, f.ProductionValue, f.ProductionVersion, f.ModelVersion, f.DecidedAt, v.Compute);
    }
}

/// <summary>POST .../run answers with the fire job it queued; the fire shows in .../fires once the job ran.</summary>
public sealed record FireQueued(int ScheduleId, string JobId);

public static class SchedulesApi
{
    public static RouteGroupBuilder MapSchedulesApi(this RouteGroupBuilder api)
    {
        var schedules = api.MapGroup("/schedules").WithTags("Schedules");
        schedules.MapGet("/", List);
        schedules.MapPost("/", Create);
        schedules.MapGet("/{id:int}", Get);
        schedules.MapPut("/{id:int}", Update);
        schedules.MapDelete("/{id:int}", Delete);
        schedules.MapPost("/{id:int}/pause", Pause);
        schedules.MapPost("/{id:int}/resume", Resume);
        schedules.MapPost("/{id:int}/run", RunNow);
        schedules.MapGet("/{id:int}/fires", Fires);
        return api;
    }

    public static async Task<IReadOnlyList<ScheduleDto>> List(ScheduleService schedules, Identity.Access access, CancellationToken ct) =>
        (await schedules.ListAsync(ct, await access.ListTeamsAsync(ct))).Select(ScheduleDto.From).ToList();

    public static async Task<ScheduleDto> Get(int id, ScheduleService schedules, CancellationToken ct) =>
        ScheduleDto.From(await schedules.GetAsync(id, ct));

    public static async Task<IResult> Create(ScheduleRequest request, ScheduleService schedules, CancellationToken ct)
    {
        var created = await schedules.CreateAsync(request, ct);
        return TypedResults.Created($"/api/v1/schedules/{created.Id}", ScheduleDto.From(await schedules.GetAsync(created.Id, ct)));
    }

    public static async Task<ScheduleDto> Update(int id, ScheduleRequest request, ScheduleService schedules, CancellationToken ct)
    {
        await schedules.UpdateAsync(id, request, ct);
        return ScheduleDto.From(await schedules.GetAsync(id, ct));
    }

    public static async Task<IResult> Delete(int id, ScheduleService schedules, CancellationToken ct)
    {
        await schedules.DeleteAsync(id, ct);
        return TypedResults.NoContent();
    }

    public static async Task<ScheduleDto> Pause(int id, ScheduleService schedules, CancellationToken ct)
    {
        await schedules.SetPausedAsync(id, true, ct);
        return ScheduleDto.From(await schedules.GetAsync(id, ct));
    }

    public static async Task<ScheduleDto> Resume(int id, ScheduleService schedules, CancellationToken ct)
    {
        await schedules.SetPausedAsync(id, false, ct);
        return ScheduleDto.From(await schedules.GetAsync(id, ct));
    }

    public static async Task<IResult> RunNow(int id, ScheduleService schedules, CancellationToken ct) =>
        TypedResults.Accepted($"/api/v1/schedules/{id}/fires", new FireQueued(id, await schedules.RunNowAsync(id, ct)));

    public static async Task<IReadOnlyList<FireDto>> Fires(int id, ScheduleService schedules, CancellationToken ct, int limit = 50) =>
        (await schedules.FiresAsync(id, limit, ct)).Select(FireDto.From).ToList();
}
