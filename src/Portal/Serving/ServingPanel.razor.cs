using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Registry;
using MudBlazor;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;

namespace ModelOps.Portal.Serving;

/// <summary>
/// The serving panel of one registered model (the model page and the Review page embed it): canary
/// and shadow controls, requests, errors and latency per minute per version, drift per feature with
/// the threshold, and predicted classes served against the test split. It reads its own data, redraws
/// every <see cref="RefreshSeconds"/> while it is on the page, and checks the caller's role in each
/// write handler (the buttons only reflect it).
/// </summary>
public sealed partial class ServingPanel : IDisposable
{
    [Inject] private IDbContextFactory<PortalDb> DbFactory { get; set; } = default!;
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private ServingMetrics Metrics { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IStringLocalizer<ServingText> L { get; set; } = default!;
    [Inject] private Identity.Access Access { get; set; } = default!;

    /// <summary>The registered model whose serving is shown.</summary>
    [Parameter, EditorRequired] public string ModelName { get; set; } = "";

    /// <summary>How often the figures are read again (seconds; 0 stops refreshing).</summary>
    [Parameter] public int RefreshSeconds { get; set; } = 5;

    /// <summary>How far back the charts reach.</summary>
    [Parameter] public TimeSpan Span { get; set; } = TimeSpan.FromHours(3);

    private readonly CancellationTokenSource _stop = new();
    private string? loadedFor;
    private DeploymentView? view;
    private DriftView? drift;
    private int teamId;
    private bool canApprove, canEdit, busy;
    private string? error;
    private List<int> staging = [];
    private List<int> shadowChoices = [];
    private int? canaryVersion;
    private int canaryPercent = 10;
    private double? agreement;
    private long compared;
    private int chartVersion;
    private IList<ITrace> requestTraces = new List<ITrace>(), latencyTraces = new List<ITrace>(), driftTraces = new List<ITrace>(), classTraces = new List<ITrace>();
    private Layout requestLayout = new(), latencyLayout = new(), driftLayout = new(), classLayout = new();

    protected override async Task OnParametersSetAsync()
    {
        if (loadedFor == ModelName) return;
        loadedFor = ModelName;
        await LoadAsync();
        if (RefreshSeconds > 0 && _refresh is null) _refresh = RefreshLoopAsync();
    }

    private Task? _refresh;

    private async Task RefreshLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(RefreshSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
                await InvokeAsync(async () =>
                {
                    if (busy) return;
                    await LoadAsync();
                    StateHasChanged();
                });
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task LoadAsync()
    {
        var ct = _stop.Token;
        try
        {
            await using var db = await DbFactory.CreateDbContextAsync(ct);
            var model = await db.RegisteredModels.AsNoTracking().Where(m => m.Name == ModelName).Select(m => new { m.Id, m.TeamId }).FirstOrDefaultAsync(ct);
            if (model is null)
            {
                view = null;
                return;
            }
            teamId = model.TeamId;
            var role = await Access.RoleAsync(teamId, ct);
            if (role is null)
            {
                view = null;
                return;
            }
            canApprove = role >= Identity.TeamRole.Approver;
            canEdit = role >= Identity.TeamRole.Editor;
            var versions = await db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModelId == model.Id).Select(v => new { v.Version, v.Stage }).ToListAsync(ct);
            staging = versions.Where(v => v.Stage == ModelStages.Staging).Select(v => v.Version).Order().ToList();
            shadowChoices = versions.Where(v => v.Stage is not (ModelStages.Production or ModelStages.Archived)).Select(v => v.Version).Order().ToList();
            await using (var scope = Scopes.CreateAsyncScope())
                view = await scope.ServiceProvider.GetRequiredService<ServingService>().GetAsync(ModelName, ct);
            if (view.ShadowVersion is { } s && !shadowChoices.Contains(s)) shadowChoices.Add(s);
            canaryVersion ??= view.CanaryVersion ?? staging.FirstOrDefault() switch { 0 => null, var v => v };
            if (view.CanaryVersion is not null) canaryPercent = view.CanaryPercent;
            var now = DateTime.UtcNow;
            var minutes = await Metrics.QueryAsync(model.Id, now - Span, null, ct);
            drift = await Metrics.DriftAsync(ModelName, now - Span, null, ct);
            BuildCharts(minutes, drift);
        }
        catch (PortalException ex)
        {
            error = ex.Localized(CultureInfo.CurrentUICulture);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string At(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private void BuildCharts(IReadOnlyList<ServingMinuteView> minutes, DriftView d)
    {
        chartVersion++;
        var lines = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines | Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers;
        var served = minutes.Where(m => m.Role != ServingRoles.Shadow).GroupBy(m => m.Version).OrderBy(g => g.Key).ToList();
        requestTraces = served.SelectMany(g => new ITrace[]
        {
            new Scatter { Name = L["v{0} requests", g.Key], Mode = lines, X = g.Select(m => (object)At(m.Minute)).ToList(), Y = g.Select(m => (object)m.Requests).ToList() },
            new Scatter { Name = L["v{0} errors", g.Key], Mode = lines, X = g.Select(m => (object)At(m.Minute)).ToList(), Y = g.Select(m => (object)m.Errors).ToList(),
                Line = new Plotly.Blazor.Traces.ScatterLib.Line { Dash = "dot" } },
        }).ToList();
        latencyTraces = served.SelectMany(g => new (string Name, Func<ServingMinuteView, double?> Of)[] { ("p50", m => m.P50Ms), ("p95", m => m.P95Ms), ("p99", m => m.P99Ms) }
            .Select(p => (ITrace)new Scatter
            {
                Name = $"v{g.Key} {p.Name}", Mode = lines,
                X = g.Where(m => p.Of(m) is not null).Select(m => (object)At(m.Minute)).ToList(),
                Y = g.Where(m => p.Of(m) is not null).Select(m => (object)p.Of(m)!.Value).ToList(),
            })).ToList();
        driftTraces = d.Points.GroupBy(p => (p.Version, p.Feature)).Select(g => (ITrace)new Scatter
        {
            Name = $"v{g.Key.Version} {g.Key.Feature}", Mode = lines,
            X = g.Select(p => (object)DateTime.SpecifyKind(p.At, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).ToList(),
            Y = g.Select(p => (object)p.Psi).ToList(),
        }).ToList();
        if (d.Points.Count > 0)
        {
            var ends = new List<object>
            {
                DateTime.SpecifyKind(d.Points[0].At, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                DateTime.SpecifyKind(d.Points[^1].At, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            };
            driftTraces.Add(new Scatter
            {
                Name = L["threshold"], Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines, X = ends, Y = [d.Threshold, d.Threshold],
                Line = new Plotly.Blazor.Traces.ScatterLib.Line { Dash = "dash", Color = "#d32f2f" },
            });
        }
        classTraces = d.Classes.GroupBy(c => c.Version).SelectMany(g => new ITrace[]
        {
            new Bar { Name = L["v{0} served", g.Key], X = g.Select(c => (object)c.Class).ToList(), Y = g.Select(c => (object)c.Served).ToList() },
            new Bar { Name = L["test split"], X = g.Select(c => (object)c.Class).ToList(), Y = g.Select(c => (object)(c.Test ?? 0)).ToList() },
        }).ToList();
        var time = L["minute (UTC)"].Value;
        requestLayout = Axes(time, L["requests"]);
        latencyLayout = Axes(time, L["ms"]);
        driftLayout = Axes(time, "PSI");
        classLayout = Axes(L["class"], L["share"]);

        var shadowRows = minutes.Where(m => view?.ShadowVersion == m.Version).ToList();
        compared = shadowRows.Sum(m => m.ShadowCompared);
        agreement = compared == 0 ? null : (double)shadowRows.Sum(m => m.ShadowAgreed) / compared;
    }

    private static Layout Axes(string x, string y) => new()
    {
        XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = x }, AutoMargin = Plotly.Blazor.LayoutLib.XAxisLib.AutoMarginFlag.True }],
        YAxis = [new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = y }, AutoMargin = Plotly.Blazor.LayoutLib.YAxisLib.AutoMarginFlag.True }],
        Margin = new Plotly.Blazor.LayoutLib.Margin { T = 16 },
    };

    private Task SetCanaryAsync() => ChangeAsync(Identity.TeamRole.Approver, s => s.SetCanaryAsync(ModelName, canaryVersion ?? 0, canaryPercent, _stop.Token), L["The canary is set."]);

    private Task DropCanaryAsync() => ChangeAsync(Identity.TeamRole.Approver, s => s.DropCanaryAsync(ModelName, _stop.Token), L["The canary is dropped."]);

    private Task PromoteCanaryAsync() => ChangeAsync(Identity.TeamRole.Approver, s => s.PromoteCanaryAsync(ModelName, _stop.Token), L["The canary is in Production."]);

    private Task SetShadowAsync(int? version) => ChangeAsync(Identity.TeamRole.Editor, s => s.SetShadowAsync(ModelName, version, _stop.Token),
        version is null ? L["The shadow is dropped."] : L["The shadow is set."]);

    private async Task ChangeAsync(Identity.TeamRole needed, Func<ServingService, Task<DeploymentView>> change, string done)
    {
        busy = true;
        error = null;
        try
        {
            await Access.RequireAsync(teamId, needed, $"Model '{ModelName}'", _stop.Token);
            await using (var scope = Scopes.CreateAsyncScope())
                view = await change(scope.ServiceProvider.GetRequiredService<ServingService>());
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
        var keep = error;
        await LoadAsync();
        error ??= keep;
    }

    public void Dispose()
    {
        // Not disposed: a refresh still in flight reads the token and ends on its cancellation.
        _stop.Cancel();
    }
}
