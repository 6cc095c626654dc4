using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Datasets;
using ModelOps.TestSupport;
using MudBlazor;

namespace ModelOps.Ui.Tests.Datasets;

/// <summary>
/// The Datasets family's components over the real services: datasets are ingested through the real
/// DatasetIngest (files in the temp data folder, rows in the real SQLite file), as an upload would.
/// </summary>
public abstract class DatasetsUiTest : PortalUiTest
{
    protected DatasetsUiTest()
    {
        // A live circuit: the forms' inputs are enabled (before it, they are disabled; see the Prerendered tests).
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected Task<DatasetVersion> IngestCsvAsync(string name, string csv, CsvUploadOptions? options = null, string fileName = "data.csv") =>
        InScopeAsync(sp => sp.GetRequiredService<DatasetIngest>()
            .IngestCsvAsync(name, fileName, new MemoryStream(Encoding.UTF8.GetBytes(csv)), options ?? new CsvUploadOptions(), CancellationToken.None));

    protected Task<DatasetVersion> IngestIdxAsync(string name, int count = 30, IReadOnlyList<string>? classNames = null) =>
        InScopeAsync(sp => sp.GetRequiredService<DatasetIngest>().IngestIdxAsync(name, new IdxUpload(
            new NamedStream("train-images.gz", new MemoryStream(TestData.IdxImages(count))),
            new NamedStream("train-labels.gz", new MemoryStream(TestData.IdxLabels(count))),
            null, null, classNames), CancellationToken.None));

    /// <summary>MudBlazor's providers, as the layout renders them: popovers (the pager's select) and dialogs.</summary>
    protected IRenderedComponent<MudDialogProvider> RenderProviders()
    {
        Render<MudPopoverProvider>();
        return Render<MudDialogProvider>();
    }

    /// <summary>A CSV with missing cells (empty and NA) in two feature columns.</summary>
    protected static string CsvWithMissing() =>
        "x,y,colour,label\n1.0,2.0,red,high\n,1.5,blue,high\n-1.0,NA,green,low\n-2.0,-1.0,,low\n0.5,0.5,red,high\n";
}
