using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Shell;
using MudBlazor;

namespace ModelOps.Portal.Registry;

/// <summary>
/// The model registry: models (paged and sorted in SQL), the chosen model's versions (likewise), stage
/// changes with a confirmation whenever Production changes, rollback to the version Production had before,
/// registering a finished run's model, and the audit trail of who changed what.
/// </summary>
public sealed partial class Models
{
    private const int RegistrableRunCount = 50;
    private const int AuditCount = 30;

    [Inject] private IDbContextFactory<PortalDb> DbFactory { get; set; } = default!;
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private DataPaths Paths { get; set; } = default!;
    [Inject] private IStringLocalizer<RegistryText> L { get; set; } = default!;
    [Inject] private IStringLocalizer<ShellText> S { get; set; } = default!;
    [Inject] private Microsoft.Extensions.Options.IOptions<CostOptions> Prices { get; set; } = default!;
    [Inject] private Identity.Access Access { get; set; } = default!;

    /// <summary>The model to show first: ?model=name (links from runs and the overview).</summary>
    [SupplyParameterFromQuery(Name = "model")] public string? ModelQuery { get; set; }

    private MudDataGrid<ModelRow>? modelsGrid;
    private MudDataGrid<VersionRow>? versionsGrid;
    private string? selected;
    private ModelDetail? detail;
    private List<AuditEvent> audit = [];
    private bool busy;
    private string? error;

    private bool registerOpen;
    private List<RegistrableRun> registrableRuns = [];
    private int? registerRunId;
    private string registerName = "";
    private string? suggestedName;
    private bool registering;
    private string? registerError, registerRunProblem, registerNameProblem;
    private ExistingVersion? alreadyRegistered;

    /// <summary>The teams the page lists (the team switch's, else all the caller's), and those the caller may register runs of.</summary>
    private IReadOnlyList<int> teams = [];
    private IReadOnlyList<int> editorTeams = [];
    /// <summary>The caller's role in the chosen model's team: what its buttons offer (each action checks again).</summary>
    private Identity.TeamRole? modelRole;

    private bool CanEdit => modelRole >= Identity.TeamRole.Editor;
    private bool CanApprove => modelRole >= Identity.TeamRole.Approver;
    private bool CanRegister => editorTeams.Count > 0;

    /// <summary>One row of the models grid.</summary>
    public sealed record ModelRow(string Name, DateTime CreatedAt, string CreatedBy, int VersionCount, int? ProductionVersion, DateTime? LatestAt,
        ComputeView? Compute = null);

    /// <summary>One row of the versions grid.</summary>
    public sealed record VersionRow(int Version, string Stage, int RunId, string RunName, double? TestAccuracy, DateTime CreatedAt, string CreatedBy,
        DateTime? StageChangedAt, string? StageChangedBy, int? DatasetId, string? ParentName, int? ParentVersion, string ArtifactPath)
    {
        public bool HasPyTorch { get; init; }
    }

    private sealed record ModelDetail(string Name, DateTime CreatedAt, string CreatedBy, int? ProductionVersion, int? RollbackTo, string? ExampleInput);

    private sealed record RegistrableRun(int Id, string Name, string? DatasetName);

    private sealed record ExistingVersion(int RunId, string Name, int Version);

    protected override async Task OnInitializedAsync()
    {
        teams = await Access.ListTeamsAsync();
        var writable = await Access.TeamsAsync(Identity.TeamRole.Editor);
        editorTeams = teams.Where(writable.Contains).ToList();
        await using var db = await DbFactory.CreateDbContextAsync();
        var wanted = string.IsNullOrWhiteSpace(ModelQuery) ? null : ModelQuery.Trim();
        selected = wanted is not null && await Listed(db).AnyAsync(m => m.Name == wanted)
            ? wanted
            : await Listed(db).OrderBy(m => m.Name).Select(m => m.Name).FirstOrDefaultAsync();
        await LoadDetailAsync(db);
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        // Older links name the model in the fragment (models#model-name), which only the browser knows.
        if (firstRender && RendererInfo.IsInteractive && Nav.Uri.IndexOf("#model-", StringComparison.Ordinal) is var at and >= 0)
        {
            var name = Uri.UnescapeDataString(Nav.Uri[(at + "#model-".Length)..]);
            if (name != selected) await SelectAsync(name);
        }
    }

    private async Task SelectAsync(string name)
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        if (!await Listed(db).AnyAsync(m => m.Name == name)) return;
        selected = name;
        await LoadDetailAsync(db);
        StateHasChanged();
    }

    /// <summary>The models of the teams the page lists.</summary>
    private IQueryable<RegisteredModel> Listed(PortalDb db) => db.RegisteredModels.AsNoTracking().Where(m => teams.Contains(m.TeamId));

    private static IQueryable<ModelVersion> VersionsOf(PortalDb db, string model) =>
        db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModel!.Name == model);

    /// <summary>A page of models, sorted and paged in SQL.</summary>
    private async Task<GridData<ModelRow>> LoadModelsAsync(GridState<ModelRow> state, CancellationToken ct)
    {
        await using var db = await DbFactory.CreateDbContextAsync(ct);
        // Ordered on an anonymous projection (EF translates its members), then shaped into rows.
        var query = Listed(db).Select(m => new
        {
            m.Name, m.CreatedAt, m.CreatedBy,
            VersionCount = m.Versions.Count(),
            ProductionVersion = m.Versions.Where(v => v.Stage == ModelStages.Production).Select(v => (int?)v.Version).Max(),
            LatestAt = m.Versions.Select(v => (DateTime?)v.CreatedAt).Max(),
            // The compute of the runs behind its versions, each run once (a run registered twice was trained once).
            GpuSeconds = db.Runs.Where(r => m.Versions.Any(v => v.RunId == r.Id)).Sum(r => r.GpuSeconds ?? 0),
            CpuCoreSeconds = db.Runs.Where(r => m.Versions.Any(v => v.RunId == r.Id)).Sum(r => r.CpuCoreSeconds ?? 0),
        });
        var total = await Listed(db).CountAsync(ct);
        var sort = state.SortDefinitions.FirstOrDefault();
        var descending = sort?.Descending ?? false;
        var ordered = sort?.SortBy switch
        {
            nameof(ModelRow.CreatedAt) => descending ? query.OrderByDescending(m => m.CreatedAt) : query.OrderBy(m => m.CreatedAt),
            nameof(ModelRow.VersionCount) => descending ? query.OrderByDescending(m => m.VersionCount) : query.OrderBy(m => m.VersionCount),
            nameof(ModelRow.ProductionVersion) => descending ? query.OrderByDescending(m => m.ProductionVersion) : query.OrderBy(m => m.ProductionVersion),
            nameof(ModelRow.LatestAt) => descending ? query.OrderByDescending(m => m.LatestAt) : query.OrderBy(m => m.LatestAt),
            _ => descending ? query.OrderByDescending(m => m.Name) : query.OrderBy(m => m.Name),
        };
        var page = await ordered.ThenBy(m => m.Name).Skip(state.Page * state.PageSize).Take(state.PageSize).ToListAsync(ct);
        var items = page.Select(m => new ModelRow(m.Name, m.CreatedAt, m.CreatedBy, m.VersionCount, m.ProductionVersion, m.LatestAt,
            RunCompute.Sum(m.GpuSeconds, m.CpuCoreSeconds, Prices.Value))).ToList();
        return new GridData<ModelRow> { Items = items, TotalItems = total };
    }

    /// <summary>A page of the chosen model's versions, newest first unless sorted otherwise, in SQL.</summary>
    private async Task<GridData<VersionRow>> LoadVersionsAsync(GridState<VersionRow> state, CancellationToken ct)
    {
        if (selected is not { } model) return new GridData<VersionRow> { Items = [], TotalItems = 0 };
        await using var db = await DbFactory.CreateDbContextAsync(ct);
        var versions = VersionsOf(db, model);
        var total = await versions.CountAsync(ct);
        var sort = state.SortDefinitions.FirstOrDefault();
        var descending = sort?.Descending ?? true;
        IOrderedQueryable<ModelVersion> ordered = sort?.SortBy switch
        {
            nameof(VersionRow.Stage) => descending ? versions.OrderByDescending(v => v.Stage) : versions.OrderBy(v => v.Stage),
            nameof(VersionRow.RunId) => descending ? versions.OrderByDescending(v => v.RunId) : versions.OrderBy(v => v.RunId),
            nameof(VersionRow.TestAccuracy) => descending ? versions.OrderByDescending(v => v.Run!.TestAccuracy) : versions.OrderBy(v => v.Run!.TestAccuracy),
            nameof(VersionRow.CreatedAt) => descending ? versions.OrderByDescending(v => v.CreatedAt) : versions.OrderBy(v => v.CreatedAt),
            nameof(VersionRow.StageChangedAt) => descending ? versions.OrderByDescending(v => v.StageChangedAt) : versions.OrderBy(v => v.StageChangedAt),
            _ => descending ? versions.OrderByDescending(v => v.Version) : versions.OrderBy(v => v.Version),
        };
        var items = await ordered.ThenByDescending(v => v.Version).Skip(state.Page * state.PageSize).Take(state.PageSize)
            .Select(v => new VersionRow(v.Version, v.Stage, v.RunId, v.Run!.Name, v.Run.TestAccuracy, v.CreatedAt, v.CreatedBy,
                v.StageChangedAt, v.StageChangedBy, v.Run.DatasetVersion != null ? v.Run.DatasetVersion.DatasetId : null,
                v.Run.ParentModelVersion != null ? v.Run.ParentModelVersion.RegisteredModel!.Name : null,
                v.Run.ParentModelVersion != null ? v.Run.ParentModelVersion.Version : null, v.ArtifactPath))
            .ToListAsync(ct);
        items = items.Select(v => v with { HasPyTorch = File.Exists(RegistryService.PyTorchPath(Paths.Resolve(v.ArtifactPath))) }).ToList();
        return new GridData<VersionRow> { Items = items, TotalItems = total };
    }

    /// <summary>The chosen model's header (rollback target, example request) and its audit trail.</summary>
    private async Task LoadDetailAsync(PortalDb db)
    {
        if (selected is not { } name)
        {
            detail = null;
            modelRole = null;
            audit = await db.AuditEvents.AsNoTracking().Where(a => a.TeamId != null && teams.Contains(a.TeamId.Value))
                .Where(a => a.Action.StartsWith("model.") || a.Subject.StartsWith("model:"))
                .OrderByDescending(a => a.Id).Take(AuditCount).ToListAsync();
            return;
        }
        var model = await db.RegisteredModels.AsNoTracking().FirstAsync(m => m.Name == name);
        modelRole = await Access.RoleAsync(model.TeamId);
        var versions = await VersionsOf(db, name).Select(v => new { v.Version, v.Stage }).ToListAsync();
        var production = versions.Where(v => v.Stage == ModelStages.Production).Select(v => (int?)v.Version).FirstOrDefault();
        // The version that held Production last before the current one, from the stage history (docs/registry.md).
        int? rollbackTo;
        await using (var scope = Scopes.CreateAsyncScope())
            rollbackTo = await scope.ServiceProvider.GetRequiredService<RegistryService>().RollbackTargetAsync(name, CancellationToken.None);
        var latestDatasetVersion = await VersionsOf(db, name).OrderByDescending(v => v.Version).Select(v => v.Run!.DatasetVersionId).FirstOrDefaultAsync();
        var datasetVersion = latestDatasetVersion is { } dv ? await db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Id == dv) : null;
        // The example's values come from the dataset's first row: sensitive columns are masked in it (Datasets/DatasetPrivacy).
        var marks = datasetVersion is null ? [] : await db.DatasetSensitiveColumns.AsNoTracking().Where(m => m.DatasetId == datasetVersion.DatasetId).ToDictionaryAsync(m => m.Column, m => m.Sensitive);
        detail = new ModelDetail(model.Name, model.CreatedAt, model.CreatedBy, production, rollbackTo, datasetVersion is null ? null : ExampleInput(datasetVersion, marks));
        var own = $"model:{name}:";
        audit = await db.AuditEvents.AsNoTracking().Where(a => a.Subject.StartsWith(own) || a.Subject == "model:" + name)
            .OrderByDescending(a => a.Id).Take(AuditCount).ToListAsync();
    }

    private async Task ReloadAsync()
    {
        await using (var db = await DbFactory.CreateDbContextAsync())
            await LoadDetailAsync(db);
        if (modelsGrid is not null) await modelsGrid.ReloadServerData();
        if (versionsGrid is not null) await versionsGrid.ReloadServerData();
        StateHasChanged();
    }

    private string StageName(string stage) => S["Stage " + stage];

    /// <summary>A model's compute: its cost, or without prices its GPU and CPU core hours.</summary>
    private string ComputeText(ComputeView? c) => c is null ? "—"
        : c.Cost is not null ? RunCompute.CostText(c)
        : L["{0} GPU h, {1} CPU core h", RunCompute.HoursText(c.GpuSeconds), RunCompute.HoursText(c.CpuCoreSeconds)];

    /// <summary>
    /// Moves a version to a stage. Production changes (a version going into it, or leaving it) change what
    /// the model serves, so they are confirmed first.
    /// </summary>
    private async Task ChangeStageAsync(VersionRow version, string stage)
    {
        if (detail is not { } model) return;
        if (stage == ModelStages.Production || version.Stage == ModelStages.Production)
        {
            var (title, message) = stage == ModelStages.Production
                ? (L["Promote {0} v{1} to Production?", model.Name, version.Version].Value,
                    model.ProductionVersion is { } current
                        ? L["v{0} serves predictions now; it is archived and v{1} serves from then on.", current, version.Version].Value
                        : L["v{0} starts serving the model's predictions.", version.Version].Value)
                : (L["Take {0} v{1} out of Production?", model.Name, version.Version].Value,
                    L["{0} then has no version in Production: predictions are refused until another version is promoted.", model.Name].Value);
            var confirmed = await Dialogs.ShowMessageBoxAsync(title, message,
                yesText: stage == ModelStages.Production ? L["Promote to Production"] : L["Move to {0}", StageName(stage)], cancelText: S["Cancel"]);
            if (confirmed != true) return;
        }
        await PromoteAsync(model.Name, version.Version, stage, L["{0} v{1} is now {2}.", model.Name, version.Version, StageName(stage)]);
    }

    /// <summary>Puts back the version that was in Production before the current one (or before Production was emptied).</summary>
    private async Task RollbackAsync()
    {
        if (detail is not { RollbackTo: { } back } model) return;
        var confirmed = await Dialogs.ShowMessageBoxAsync(
            L["Roll back {0} to v{1}?", model.Name, back],
            model.ProductionVersion is { } current
                ? L["v{0} leaves Production and is archived; v{1} serves predictions again.", current, back]
                : L["v{0} serves predictions again.", back],
            yesText: L["Roll back"], cancelText: S["Cancel"]);
        if (confirmed != true) return;
        busy = true;
        error = null;
        try
        {
            await using (var scope = Scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
                var team = await db.RegisteredModels.AsNoTracking().Where(m => m.Name == model.Name).Select(m => m.TeamId).FirstAsync();
                await scope.ServiceProvider.GetRequiredService<Identity.Access>().RequireAsync(team, Identity.TeamRole.Approver, $"Model '{model.Name}'", CancellationToken.None);
                await scope.ServiceProvider.GetRequiredService<RegistryService>().RollbackAsync(model.Name, "rolled back from the Models page", CancellationToken.None);
            }
            Snackbar.Add(L["{0} is rolled back to v{1}.", model.Name, back], Severity.Success);
        }
        catch (PortalException ex)
        {
            error = ex.Localized(CultureInfo.CurrentUICulture);
        }
        finally
        {
            busy = false;
        }
        await ReloadAsync();
    }

    /// <summary>
    /// Moves the version to the stage after checking the caller's role in the model's team (Approver into or
    /// out of Production, else Editor), as the API does: a hidden button is no check.
    /// </summary>
    public async Task PromoteAsync(string model, int version, string stage, string done)
    {
        busy = true;
        error = null;
        try
        {
            await using (var scope = Scopes.CreateAsyncScope())
            {
                await ModelsApi.RequireStageRoleAsync(scope.ServiceProvider.GetRequiredService<PortalDb>(), scope.ServiceProvider.GetRequiredService<Identity.Access>(),
                    model, version, stage, CancellationToken.None);
                var registry = scope.ServiceProvider.GetRequiredService<RegistryService>();
                await ModelsApi.RequireDirectMoveAllowedAsync(registry, model, stage, CancellationToken.None);
                await registry.PromoteAsync(model, version, stage, CancellationToken.None);
            }
            Snackbar.Add(done, Severity.Success);
        }
        catch (PortalException ex)
        {
            error = ex.Localized(CultureInfo.CurrentUICulture);
        }
        finally
        {
            busy = false;
        }
        await ReloadAsync();
    }

    private async Task ToggleRegisterForm()
    {
        registerOpen = !registerOpen;
        if (!registerOpen) return;
        await using var db = await DbFactory.CreateDbContextAsync();
        registrableRuns = await db.Runs.AsNoTracking()
            .Where(r => r.DeletedAt == null && r.Status == RunStatus.Finished && r.HasModel && editorTeams.Contains(r.Experiment!.TeamId))
            .OrderByDescending(r => r.Id).Take(RegistrableRunCount)
            .Select(r => new RegistrableRun(r.Id, r.Name, r.DatasetVersion != null ? r.DatasetVersion.Dataset!.Name : null))
            .ToListAsync();
    }

    private async Task RunChosenAsync(int? runId)
    {
        registerRunId = runId;
        registerRunProblem = registerError = null;
        alreadyRegistered = null;
        if (runId is not { } id) return;
        var run = registrableRuns.FirstOrDefault(r => r.Id == id);
        // A run already registered suggests its model; otherwise a name from its dataset. Register then says "already version N".
        if (string.IsNullOrWhiteSpace(registerName) || registerName == suggestedName)
            registerName = suggestedName = (await FindExistingAsync(id))?.Name ?? ModelNames.SuggestFrom(run?.DatasetName);
    }

    private void NameChanged(string name)
    {
        registerName = name;
        // "Already version N" was said of the name it was checked against.
        alreadyRegistered = null;
        registerNameProblem = null;
    }

    /// <summary>The model a run was last registered as, whatever its name: the name the form suggests for it.</summary>
    private async Task<ExistingVersion?> FindExistingAsync(int runId)
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        return await db.ModelVersions.AsNoTracking().Where(v => v.RunId == runId).OrderByDescending(v => v.Id)
            .Select(v => new ExistingVersion(v.RunId, v.RegisteredModel!.Name, v.Version)).FirstOrDefaultAsync();
    }

    /// <summary>
    /// Registers the chosen run's model. A run that is already a version of this model is refused by the
    /// registry (409) unless asked for on purpose, so the form asks first and says which version it is.
    /// </summary>
    public async Task RegisterAsync(bool again)
    {
        if (registerRunId is not { } runId) return;
        registerError = registerRunProblem = registerNameProblem = null;
        registering = true;
        try
        {
            await using var scope = Scopes.CreateAsyncScope();
            // The version belongs to the run's team: registering needs an Editor there (as POST /models/{name}/versions).
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            var team = await db.Runs.Where(r => r.Id == runId && r.DeletedAt == null).Select(r => (int?)r.Experiment!.TeamId).FirstOrDefaultAsync()
                ?? throw PortalException.NotFound($"Run {runId}");
            await scope.ServiceProvider.GetRequiredService<Identity.Access>().RequireAsync(team, Identity.TeamRole.Editor, $"Run {runId}");
            var registry = scope.ServiceProvider.GetRequiredService<RegistryService>();
            var name = registerName.Trim();
            if (!again && await registry.FindVersionForRunAsync(name, runId, CancellationToken.None) is { } existing)
            {
                alreadyRegistered = new ExistingVersion(runId, name, existing);
                return;
            }
            var version = await registry.RegisterAsync(runId, registerName, allowDuplicate: again, CancellationToken.None);
            var registered = version.RegisteredModel?.Name ?? name;
            Snackbar.Add(L["Run {0} is registered as {1} v{2}.", runId, registered, version.Version].Value, Severity.Success);
            alreadyRegistered = null;
            registerRunId = null;
            registerOpen = false;
            selected = registered;
            await ReloadAsync();
        }
        catch (PortalException ex)
        {
            var message = ex.Localized(CultureInfo.CurrentUICulture);
            if (ex.Field == "name") registerNameProblem = message;
            else if (ex.Field == "runId") registerRunProblem = message;
            else registerError = message;
            // Without the form (a caller who may register nowhere) the refusal shows above the page.
            if (!CanRegister) error = message;
        }
        finally
        {
            registering = false;
        }
    }

    private static string VersionUrl(string model, int version, string what) => $"api/v1/models/{Uri.EscapeDataString(model)}/versions/{version}/{what}";

    /// <summary>A realistic request body: the dataset's first row without its label, or a blank 28x28 image.</summary>
    private static string? ExampleInput(DatasetVersion version, IReadOnlyDictionary<string, bool> marks)
    {
        if (version.Kind == DatasetKinds.Idx)
            return "[" + string.Join(",", Enumerable.Repeat("0", 28 * 28)) + "]";
        DatasetProfile profile;
        try
        {
            profile = DatasetIngest.ReadProfile(version);
        }
        catch (Exception ex) when (ex is IOException or PortalException or JsonException)
        {
            return null;
        }
        if (profile.PreviewRows.Count == 0) return null;
        profile = Masking.MaskProfile(profile, DatasetPrivacy.Sensitive(profile, marks));
        var row = profile.PreviewRows[0];
        var pairs = profile.Columns.Select((c, i) => (c.Name, Value: i < row.Count ? row[i] : ""))
            .Where(p => p.Name != profile.LabelColumn)
            .Select(p => $"{JsonSerializer.Serialize(p.Name)}: {JsonValue(p.Value)}");
        return "{" + string.Join(", ", pairs) + "}";
    }

    private static string JsonValue(string cell) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? d.ToString("R", CultureInfo.InvariantCulture)
            : JsonSerializer.Serialize(cell);

    private string PredictExample(ModelDetail model)
    {
        var url = $"{Nav.BaseUri}api/v1/models/{Uri.EscapeDataString(model.Name)}/predict";
        var input = model.ExampleInput ?? "[ ... ]";
        return $"curl -X POST {url} \\\n  -H 'Content-Type: application/json' \\\n  -d '{{\"inputs\": [{input}]}}'";
    }

    // ---- the audit trail in the user's language ----

    private string DescribeAction(string action) => action switch
    {
        "model.version.registered" => L["registered a version"],
        "model.stage.changed" => L["changed the stage"],
        _ => action,
    };

    private string DescribeSubject(string subject) =>
        SubjectPattern().Match(subject) is { Success: true } m ? L["{0} v{1}", m.Groups[1].Value, m.Groups[2].Value] : subject;

    private string DescribeDetails(string details)
    {
        if (StagePattern().Match(details) is { Success: true } stage)
            return stage.Groups[3].Success
                ? L["{0} → {1} (replaced by v{2})", StageName(stage.Groups[1].Value), StageName(stage.Groups[2].Value), stage.Groups[3].Value]
                : L["{0} → {1}", StageName(stage.Groups[1].Value), StageName(stage.Groups[2].Value)];
        if (FromRunPattern().Match(details) is { Success: true } run)
            return L["from run #{0}", run.Groups[1].Value];
        return details;
    }

    [GeneratedRegex(@"^model:(.+):v(\d+)$")]
    private static partial Regex SubjectPattern();

    [GeneratedRegex(@"^(\w+) -> (\w+)(?: \(replaced by v(\d+)\))?$")]
    private static partial Regex StagePattern();

    [GeneratedRegex(@"^from run (\d+)$")]
    private static partial Regex FromRunPattern();
}
