using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using MudBlazor;

namespace ModelOps.Ui.Tests.Datasets;

/// <summary>The dataset page with sensitive columns: masked values and markers when the seam says no, raw values and the toggle when it says yes.</summary>
/// (Not a <see cref="DatasetsUiTest"/>: the seam must be registered before that base sets the renderer up.)
public sealed class SensitiveColumnsUiTests : PortalUiTest
{
    private sealed class FixedRawAccess : IRawDataAccess
    {
        public bool May { get; set; }
        public Task<bool> MaySeeRawAsync(int datasetId, CancellationToken ct) => Task.FromResult(May);
    }

    private readonly FixedRawAccess access = new();

    public SensitiveColumnsUiTests()
    {
        Services.AddSingleton<IRawDataAccess>(access);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    private Task<DatasetVersion> IngestCsvAsync(string name, string csv) =>
        InScopeAsync(sp => sp.GetRequiredService<DatasetIngest>()
            .IngestCsvAsync(name, "people.csv", new MemoryStream(Encoding.UTF8.GetBytes(csv)), new CsvUploadOptions(), CancellationToken.None));

    /// <summary>id, email, card (Luhn-valid), amount, label.</summary>
    private static string PeopleCsv(int rows = 10)
    {
        var csv = new StringBuilder("id,email,card,amount,label\n");
        for (var i = 0; i < rows; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{i + 1},user{i}@example.com,{Card(i)},{(i * 1.5).ToString(CultureInfo.InvariantCulture)},{(i % 2 == 0 ? "yes" : "no")}\n");
        return csv.ToString();
    }

    private static string Card(int i)
    {
        var body = "400000000000" + (100 + i).ToString("D3", CultureInfo.InvariantCulture);
        var check = Enumerable.Range(0, 10).First(c => PersonalData.Luhn(body + c));
        return body + check;
    }

    private bool providers;

    private IRenderedComponent<DatasetDetail> RenderDetail(int id)
    {
        if (!providers)
        {
            Render<MudPopoverProvider>();
            Render<MudSnackbarProvider>();
            providers = true;
        }
        return Render<DatasetDetail>(p => p.Add(d => d.Id, id));
    }

    private int AuditCount(string action) => Db(db => db.AuditEvents.Count(a => a.Action == action));

    [Fact]
    public async Task A_viewer_without_raw_access_sees_masked_values_and_the_masked_markers()
    {
        access.May = false;
        var version = await IngestCsvAsync("people", PeopleCsv());
        var page = RenderDetail(version.DatasetId);

        Assert.NotNull(page.Find("[data-testid=masked-notice]"));
        Assert.NotNull(page.Find("[data-testid=masked-email]"));
        Assert.NotNull(page.Find("[data-testid=masked-card]"));
        Assert.Empty(page.FindAll("[data-testid=masked-amount]"));
        Assert.NotNull(page.Find("[data-testid=preview-masked-email]"));
        Assert.Equal("email", page.Find("[data-testid=privacy-email]").GetAttribute("data-detected"));
        Assert.Equal("card-number", page.Find("[data-testid=privacy-card]").GetAttribute("data-detected"));
        Assert.Contains("e-mail addresses", page.Find("[data-testid=detected-email]").TextContent);
        Assert.Empty(page.FindAll("[data-testid^=sensitive-toggle-]")); // marking is for those who may see raw values

        var markup = page.Markup;
        for (var i = 0; i < 10; i++)
        {
            Assert.DoesNotContain($"user{i}@example.com", markup);
            Assert.DoesNotContain(Card(i), markup);
        }
        var firstRow = page.FindAll("[data-testid=preview-table] tbody tr")[0].QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList();
        Assert.Equal(["1", "u***@example.com", "**** **** **** " + Card(0)[^4..], "0", "yes"], firstRow);
        Assert.Equal(0, AuditCount(DatasetPrivacy.RawViewedAction));
    }

    [Fact]
    public async Task A_viewer_with_raw_access_sees_raw_values_once_audited_and_a_toggle_per_column()
    {
        access.May = true;
        var version = await IngestCsvAsync("people", PeopleCsv());
        var page = RenderDetail(version.DatasetId);

        Assert.Empty(page.FindAll("[data-testid=masked-notice]"));
        Assert.Empty(page.FindAll("[data-testid^=masked-]"));
        Assert.Contains("user0@example.com", page.Find("[data-testid=preview-table]").TextContent);
        Assert.Contains(Card(0), page.Find("[data-testid=preview-table]").TextContent);
        Assert.NotNull(page.Find("[data-testid=sensitive-toggle-email]"));
        Assert.NotNull(page.Find("[data-testid=sensitive-toggle-amount]"));
        Assert.Equal(1, AuditCount(DatasetPrivacy.RawViewedAction));
        Assert.Equal("dataset:people:v1", Db(db => db.AuditEvents.Single(a => a.Action == DatasetPrivacy.RawViewedAction).Subject));
    }

    [Fact]
    public async Task Before_the_circuit_is_live_the_page_is_masked_and_asks_nobody()
    {
        access.May = true;
        SetRendererInfo(new RendererInfo("Static", isInteractive: false));
        var version = await IngestCsvAsync("people", PeopleCsv());
        var page = RenderDetail(version.DatasetId);
        Assert.DoesNotContain("user0@example.com", page.Markup);
        Assert.NotNull(page.Find("[data-testid=masked-email]"));
        Assert.Empty(page.FindAll("[data-testid^=sensitive-toggle-]"));
        Assert.Equal(0, AuditCount(DatasetPrivacy.RawViewedAction));
    }

    [Fact]
    public async Task The_toggle_marks_a_column_sensitive_and_not_sensitive()
    {
        access.May = true;
        var version = await IngestCsvAsync("people", PeopleCsv());
        var page = RenderDetail(version.DatasetId);
        Assert.Equal("false", page.Find("[data-testid=privacy-amount]").GetAttribute("data-sensitive"));

        page.Find("[data-testid=sensitive-toggle-amount]").Change(true);
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-testid=privacy-amount]").GetAttribute("data-sensitive")));
        page.Find("[data-testid=sensitive-toggle-email]").Change(false);
        page.WaitForAssertion(() => Assert.Equal("false", page.Find("[data-testid=privacy-email]").GetAttribute("data-sensitive")));

        var marks = Db(db => db.DatasetSensitiveColumns.AsNoTracking().OrderBy(m => m.Column).Select(m => new { m.Column, m.Sensitive }).ToList());
        Assert.Equal([("amount", true), ("email", false)], marks.Select(m => (m.Column, m.Sensitive)));
        Assert.Equal(2, AuditCount(DatasetPrivacy.MarkedAction));
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "Column amount is marked sensitive.");
        Assert.Equal(1, AuditCount(DatasetPrivacy.RawViewedAction)); // the reload after a mark is not another view

        // A viewer without raw access now sees amount masked and email raw.
        access.May = false;
        var viewer = RenderDetail(version.DatasetId);
        Assert.NotNull(viewer.Find("[data-testid=masked-amount]"));
        Assert.Empty(viewer.FindAll("[data-testid=masked-email]"));
        Assert.Contains("user0@example.com", viewer.Find("[data-testid=preview-table]").TextContent);
    }

    [Fact]
    public async Task The_models_page_predict_example_masks_sensitive_columns_of_the_first_row()
    {
        access.May = true; // the example is masked for everyone: it is a request shape, not a view of the data
        var version = await IngestCsvAsync("people", PeopleCsv());
        Db(db =>
        {
            ModelOps.Ui.Tests.Registry.RegistryRows.AddModel(db, "people-model", ModelOps.Portal.Registry.ModelStages.Production);
            foreach (var run in db.Runs) run.DatasetVersionId = version.Id;
            return db.SaveChanges();
        });
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        Render<MudDialogProvider>();
        providers = true;
        var page = Render<ModelOps.Portal.Registry.Models>();
        page.WaitForAssertion(() => Assert.Contains("u***@example.com", page.Find("[data-testid=predict-people-model]").TextContent));
        var example = page.Find("[data-testid=predict-people-model]").TextContent;
        Assert.DoesNotContain("user0@example.com", example);
        Assert.DoesNotContain(Card(0), example);
        Assert.Contains("\"amount\": 0", example);
    }

    [Fact]
    public async Task The_sensitive_columns_speak_chinese_in_zh_CN()
    {
        access.May = false;
        var version = await IngestCsvAsync("people", PeopleCsv());
        UseCulture(PortalCultures.Chinese);
        var page = RenderDetail(version.DatasetId);
        Assert.Contains("个人数据", page.Find("[data-testid=columns-table]").TextContent);
        Assert.Contains("电子邮件地址", page.Find("[data-testid=detected-email]").TextContent);
        Assert.Contains("银行卡号", page.Find("[data-testid=detected-card]").TextContent);
        Assert.Contains("已遮盖", page.Find("[data-testid=masked-email]").TextContent);
        Assert.Contains("敏感列的值已遮盖", page.Find("[data-testid=masked-notice]").TextContent);
        Assert.DoesNotContain("masked", page.Find("[data-testid=masked-notice]").TextContent);

        access.May = true;
        var editor = RenderDetail(version.DatasetId);
        Assert.Contains("敏感", editor.Find("[data-testid=privacy-email]").TextContent);
    }
}
