using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Shell;
using MudBlazor;
using Plotly.Blazor;
using Plotly.Blazor.Traces;

namespace ModelOps.Portal.Registry;

/// <summary>
/// A model's governance on the Models page: aliases, promotion requests with their gates and the
/// Approver's decision, the policy (team Admins), the stage history as a timeline and a table, and
/// a version's model card. Every write checks the caller's role in the model's team first.
/// </summary>
public sealed partial class GovernancePanel
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IStringLocalizer<RegistryText> L { get; set; } = default!;

    [Parameter, EditorRequired] public string Model { get; set; } = "";
    /// <summary>The caller's role in the model's team (what the panel offers; each write checks again).</summary>
    [Parameter] public Identity.TeamRole? Role { get; set; }
    /// <summary>Called after a change of stage, so the page reloads its versions.</summary>
    [Parameter] public EventCallback Changed { get; set; }

    private bool CanEdit => Role >= Identity.TeamRole.Editor;
    private bool CanApprove => Role >= Identity.TeamRole.Approver;
    private bool CanAdmin => Role >= Identity.TeamRole.Admin;

    private IReadOnlyList<AliasView> aliases = [];
    private IReadOnlyList<int> versions = [];
    private IReadOnlyList<PromotionRequestView> requests = [];
    private IReadOnlyList<StageIntervalView> history = [];
    private PolicyRequestModel policy = new();
    private ModelCardView? card;
    private int? cardVersion;
    private string? description;
    private string? aliasName, requestNote, decisionNote;
    private int? aliasVersion;
    private bool busy;
    private string? error;
    private IList<ITrace> timeline = new List<ITrace>();
    private Layout timelineLayout = new();

    /// <summary>The policy form's fields.</summary>
    public sealed class PolicyRequestModel
    {
        public bool RequireTwoPeople { get; set; }
        public string? GateMetric { get; set; }
        public double? GateThreshold { get; set; }
        public bool RequireBetterThanProduction { get; set; }
    }

    protected override async Task OnParametersSetAsync() => await LoadAsync();

    private async Task LoadAsync()
    {
        await using var scope = Scopes.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var registry = sp.GetRequiredService<RegistryService>();
        var db = sp.GetRequiredService<PortalDb>();
        aliases = await GovernanceApi.Aliases(Model, db, CancellationToken.None);
        versions = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModel!.Name == Model && v.Stage != ModelStages.Production)
            .OrderBy(v => v.Version).Select(v => v.Version).ToListAsync();
        requests = await GovernanceApi.Requests(Model, registry, CancellationToken.None);
        history = (await registry.HistoryAsync(Model, CancellationToken.None)).Select(GovernanceApi.ToView).ToList();
        var p = await registry.GetPolicyAsync(Model, CancellationToken.None);
        policy = new PolicyRequestModel { RequireTwoPeople = p.RequireTwoPeople, GateMetric = p.GateMetric, GateThreshold = p.GateThreshold, RequireBetterThanProduction = p.RequireBetterThanProduction };
        cardVersion ??= await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModel!.Name == Model).MaxAsync(v => (int?)v.Version);
        await LoadCardAsync(sp);
        BuildTimeline();
    }

    private async Task LoadCardAsync(IServiceProvider sp)
    {
        card = null;
        if (cardVersion is not { } v) return;
        try
        {
            card = await GovernanceApi.Card(Model, v, sp.GetRequiredService<PortalDb>(), sp.GetRequiredService<DataPaths>(),
                sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Runs.CostOptions>>(), CancellationToken.None);
            description = card.Description;
        }
        catch (PortalException ex)
        {
            error = ex.Localized(CultureInfo.CurrentUICulture);
        }
    }

    private async Task CardVersionChanged(int? version)
    {
        cardVersion = version;
        await using var scope = Scopes.CreateAsyncScope();
        await LoadCardAsync(scope.ServiceProvider);
    }

    /// <summary>A Gantt-like chart: one horizontal bar per interval, a trace per stage, versions on the y axis.</summary>
    private void BuildTimeline()
    {
        var now = DateTime.UtcNow;
        timeline = history.GroupBy(h => h.Stage).Select(g => (ITrace)new Bar
        {
            Name = L["Stage " + g.Key],
            Orientation = Plotly.Blazor.Traces.BarLib.OrientationEnum.H,
            Y = g.Select(h => (object)L["v{0}", h.Version].Value).ToList(),
            Base = g.Select(h => (object)h.From.ToString("O", CultureInfo.InvariantCulture)).ToList(),
            X = g.Select(h => (object)((h.To ?? now) - h.From).TotalMilliseconds).ToList(),
        }).ToList();
        timelineLayout = new Layout { BarMode = Plotly.Blazor.LayoutLib.BarModeEnum.Overlay, XAxis = [new Plotly.Blazor.LayoutLib.XAxis { Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Date }] };
    }

    private async Task<RegistryService> RequireAsync(AsyncServiceScope scope, Identity.TeamRole role)
    {
        var sp = scope.ServiceProvider;
        var team = await sp.GetRequiredService<PortalDb>().RegisteredModels.AsNoTracking().Where(m => m.Name == Model).Select(m => (int?)m.TeamId).FirstOrDefaultAsync()
            ?? throw PortalException.NotFound($"Model '{Model}'");
        await sp.GetRequiredService<Identity.Access>().RequireAsync(team, role, $"Model '{Model}'");
        return sp.GetRequiredService<RegistryService>();
    }

    private async Task RunAsync(Identity.TeamRole role, Func<RegistryService, Task<string>> action, bool stageChanged = false)
    {
        busy = true;
        error = null;
        try
        {
            string done;
            await using (var scope = Scopes.CreateAsyncScope())
                done = await action(await RequireAsync(scope, role));
            Snackbar.Add(done, Severity.Success);
            if (stageChanged) await Changed.InvokeAsync();
        }
        catch (PortalException ex)
        {
            error = ex.Localized(CultureInfo.CurrentUICulture);
        }
        finally
        {
            busy = false;
        }
        await LoadAsync();
    }

    private Task SetAliasAsync() => RunAsync(Identity.TeamRole.Editor, async r =>
    {
        var row = await r.SetAliasAsync(Model, aliasName ?? "", aliasVersion ?? 0, CancellationToken.None);
        return L["Alias {0} points at v{1}.", row.Name, row.Version];
    });

    private Task RemoveAliasAsync(string alias) => RunAsync(Identity.TeamRole.Editor, async r =>
    {
        await r.RemoveAliasAsync(Model, alias, CancellationToken.None);
        return L["Alias {0} removed.", alias];
    });

    private Task RequestAsync(int version) => RunAsync(Identity.TeamRole.Editor, async r =>
    {
        var row = await r.RequestPromotionAsync(Model, version, requestNote, CancellationToken.None);
        requestNote = null;
        return L["Promotion of v{0} requested.", row.Version];
    });

    private Task DecideAsync(int id, bool approve) => RunAsync(Identity.TeamRole.Approver, async r =>
    {
        var row = approve ? await r.ApprovePromotionAsync(Model, id, decisionNote, CancellationToken.None) : await r.RejectPromotionAsync(Model, id, decisionNote, CancellationToken.None);
        decisionNote = null;
        return L["Request {0} is {1}.", id, L["Status " + row.Status]];
    }, stageChanged: approve);

    private Task SavePolicyAsync() => RunAsync(Identity.TeamRole.Admin, async r =>
    {
        await r.SetPolicyAsync(Model, new PolicyRequest(policy.RequireTwoPeople, policy.GateMetric, policy.GateThreshold, policy.RequireBetterThanProduction), CancellationToken.None);
        return L["Policy saved."];
    });

    private Task SaveDescriptionAsync() => RunAsync(Identity.TeamRole.Editor, async r =>
    {
        await r.SetDescriptionAsync(Model, cardVersion ?? 0, description, CancellationToken.None);
        return L["Description saved."];
    });

    private static string Num(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("0.###", CultureInfo.CurrentCulture) : "—";
}
