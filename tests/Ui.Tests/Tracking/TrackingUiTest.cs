using System.Text.Json;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Jobs.Protocol;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Tracking;
using MudBlazor;

namespace ModelOps.Ui.Tests.Tracking;

/// <summary>
/// The tracking pages over real rows: experiments and runs created, logged and finished through the tracking API's own
/// handlers (the same code POST /experiments, /experiments/{id}/runs and /runs/{id}/log-batch run), on the live
/// (interactive) renderer with MudBlazor's popover and dialog providers in place.
/// </summary>
public abstract class TrackingUiTest : PortalUiTest
{
    protected TrackingUiTest()
    {
        AddBunitPersistentComponentState();
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected NavigationManager Nav => Services.GetRequiredService<NavigationManager>();

    /// <summary>The providers a page's selects, dialogs and snackbars need, as MainLayout has them.</summary>
    protected IRenderedComponent<MudDialogProvider> RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<MudDialogProvider>();
    }

    protected Task<ExperimentView> CreateExperimentAsync(string name, string? description = null) =>
        InScopeAsync(sp => ExperimentsApi.CreateAsync(sp.GetRequiredService<PortalDb>(), sp.GetRequiredService<CurrentUser>(),
            new NewExperiment(name, description), ModelOps.Portal.Identity.Team.DefaultId, CancellationToken.None));

    /// <summary>A tracked run with params, then its metrics (each key's values are its steps 0, 1, ...).</summary>
    protected async Task<int> CreateRunAsync(int experimentId, string name, IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, double[]> metrics, bool finish = true)
    {
        var http = new DefaultHttpContext();
        var id = await InScopeAsync(async sp =>
        {
            var result = await TrackingApi.CreateRun(experimentId,
                new NewTrackedRun(name, Params: parameters.ToDictionary(p => p.Key, p => JsonSerializer.SerializeToElement(p.Value))),
                http, sp.GetRequiredService<PortalDb>(), sp.GetRequiredService<WriteGate>(), sp.GetRequiredService<CurrentUser>(),
                sp.GetRequiredService<ModelOps.Portal.Identity.Access>(), CancellationToken.None);
            return ((Microsoft.AspNetCore.Http.HttpResults.Created<RunSummary>)result).Value!.Id;
        });
        var points = metrics.SelectMany(m => m.Value.Select((v, step) => new MetricPoint(m.Key, v, step))).ToList();
        foreach (var chunk in points.Chunk(1000))
        {
            await InScopeAsync(async sp =>
            {
                await TrackingApi.LogBatch(id, new LogBatch(chunk), http, sp.GetRequiredService<PortalDb>(), sp.GetRequiredService<TrackingStore>(),
                    sp.GetRequiredService<RunEvents>(), CancellationToken.None);
                return true;
            });
        }
        if (finish)
        {
            await InScopeAsync(sp => TrackingApi.Update(id, new RunPatch(Status: "Finished"), http, sp.GetRequiredService<PortalDb>(),
                sp.GetRequiredService<RunEvents>(), CancellationToken.None));
        }
        return id;
    }
}
