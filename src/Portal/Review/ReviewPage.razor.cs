using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Localization;
using ModelOps.Portal.Infrastructure;
using MudBlazor;
using Plotly.Blazor;
using Plotly.Blazor.Traces;

namespace ModelOps.Portal.Review;

/// <summary>
/// /models/{name}/review: Production against up to four challengers (?v=3&amp;v=5), side by side, with the
/// Approvers' decisions. A Viewer of the model's team may read it; the decide buttons show to Approvers, and the
/// handler checks the role again (ReviewService.DecideAsync).
/// </summary>
public sealed partial class ReviewPage
{
    [Parameter] public string Name { get; set; } = "";
    [SupplyParameterFromQuery(Name = "v")] public int[]? V { get; set; }
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private Identity.Access Access { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IStringLocalizer<ReviewText> L { get; set; } = default!;

    private ReviewReport? report;
    private string? error;
    private string? note;
    private bool busy;
    private bool canDecide;

    /// <summary>The challengers shown now (every version but Production).</summary>
    private List<int> Challengers => report?.Versions.Where(v => v.Version != report.ProductionVersion).Select(v => v.Version).ToList() ?? [];

    protected override Task OnParametersSetAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        try
        {
            await using var scope = Scopes.CreateAsyncScope();
            report = await scope.ServiceProvider.GetRequiredService<ReviewService>().LoadAsync(Name, V, CancellationToken.None);
            canDecide = await Access.HasAsync(report.TeamId, Identity.TeamRole.Approver);
            error = null;
        }
        catch (PortalException ex)
        {
            report = null;
            error = ex.Localized(CultureInfo.CurrentUICulture);
        }
    }

    private async Task DecideAsync(string decision)
    {
        if (report is null) return;
        busy = true;
        try
        {
            await using (var scope = Scopes.CreateAsyncScope())
                await scope.ServiceProvider.GetRequiredService<ReviewService>().DecideAsync(Name,
                    new ReviewRequest(decision, note, report.Versions.Select(v => v.Version).ToArray()), CancellationToken.None);
            Snackbar.Add(decision == ReviewDecisions.SignedOff ? L["Signed off."] : L["Changes requested."], Severity.Success);
            note = null;
            await LoadAsync();
        }
        catch (PortalException ex)
        {
            error = ex.Localized(CultureInfo.CurrentUICulture);
        }
        finally
        {
            busy = false;
        }
    }

    private string WithVersions(IEnumerable<int> versions)
    {
        var query = string.Join("&", versions.Distinct().Select(v => "v=" + v.ToString(CultureInfo.InvariantCulture)));
        return $"models/{Uri.EscapeDataString(Name)}/review" + (query.Length > 0 ? "?" + query : "");
    }

    private string ExportUrl(string kind)
    {
        var query = string.Join("&", Challengers.Select(v => "v=" + v.ToString(CultureInfo.InvariantCulture)));
        return $"api/v1/models/{Uri.EscapeDataString(Name)}/review.{kind}" + (query.Length > 0 ? "?" + query : "");
    }

    private static IList<ITrace> Matrix(ReviewVersion v)
    {
        var e = v.Evaluation!;
        return [new HeatMap
        {
            Z = e.ConfusionMatrix.Select(row => (object)row.Select(x => (object)x).ToList()).ToList(),
            X = e.ClassNames.Select(c => (object)c).ToList(),
            Y = e.ClassNames.Select(c => (object)c).ToList(),
        }];
    }

    private IList<ITrace> Curves(string key) => report!.Versions.Where(v => v.Curves.ContainsKey(key)).Select(v => (ITrace)new Scatter
    {
        Name = $"v{v.Version}",
        Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines | Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
        X = v.Curves[key].Select(p => (object)p.Step).ToList(),
        Y = v.Curves[key].Select(p => (object)p.Value).ToList(),
    }).ToList();
}
