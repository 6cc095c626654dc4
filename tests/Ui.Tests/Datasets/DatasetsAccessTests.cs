using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Identity;
using ModelOps.TestSupport;
using MudBlazor;

namespace ModelOps.Ui.Tests.Datasets;

/// <summary>
/// Teams and roles on the dataset pages: another team's datasets are neither listed nor shown, a
/// Viewer gets no write controls, and a Viewer's forged action (a handler called as a forged Blazor
/// event would) is refused with the reason and changes nothing.
/// </summary>
public sealed class DatasetsAccessTests : DatasetsUiTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private Task<int> OtherTeamAsync() =>
        InScopeAsync(async sp => (await sp.GetRequiredService<People>().CreateTeamAsync("other", null, CancellationToken.None)).Id);

    private async Task<DatasetVersion> IngestForTeamAsync(string name, int teamId)
    {
        var version = await IngestCsvAsync(name, TestData.SeparableCsv(20));
        Db(db =>
        {
            db.Datasets.Single(d => d.Id == version.DatasetId).TeamId = teamId;
            return db.SaveChanges();
        });
        return version;
    }

    private static IReadOnlyList<string> ListedNames(IRenderedComponent<Portal.Datasets.Datasets> page) =>
        page.FindAll("[data-testid=datasets-grid] a[data-testid^=dataset-link-]").Select(a => a.TextContent.Trim()).ToList();

    [Fact]
    public async Task Another_teams_dataset_is_not_listed_and_its_page_is_not_found()
    {
        var other = await OtherTeamAsync();
        await IngestCsvAsync("ours", TestData.SeparableCsv(20));
        var theirs = await IngestForTeamAsync("theirs", other);
        await SignInAsync("edna", TeamRole.Editor);
        RenderProviders();

        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Equal(["ours"], ListedNames(page)), Wait);

        var detail = Render<DatasetDetail>(p => p.Add(d => d.Id, theirs.DatasetId));
        detail.WaitForAssertion(() => Assert.NotNull(detail.Find("[data-testid=dataset-not-found]")), Wait);
        Assert.DoesNotContain("theirs", detail.Markup);
    }

    [Fact]
    public async Task A_viewer_sees_no_delete_no_upload_forms_no_new_run_and_no_sensitive_toggles()
    {
        var version = await IngestCsvAsync("ours", TestData.SeparableCsv(20));
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();

        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Equal(["ours"], ListedNames(page)), Wait);
        Assert.Empty(page.FindAll("[data-testid^=delete-]"));
        Assert.Empty(page.FindAll("[data-testid=csv-upload]"));
        Assert.Empty(page.FindAll("[data-testid=idx-upload]"));
        Assert.NotNull(page.Find("[data-testid=upload-needs-editor]"));

        var detail = Render<DatasetDetail>(p => p.Add(d => d.Id, version.DatasetId));
        detail.WaitForAssertion(() => Assert.NotNull(detail.Find("[data-testid=dataset-name]")), Wait);
        Assert.Empty(detail.FindAll("[data-testid=new-run]"));
        Assert.Empty(detail.FindAll("[data-testid^=sensitive-toggle-]"));
    }

    [Fact]
    public async Task An_editor_sees_the_upload_forms_but_only_an_admin_the_delete_button()
    {
        await IngestCsvAsync("ours", TestData.SeparableCsv(20));
        RenderProviders();
        var asAdmin = Render<Portal.Datasets.Datasets>();
        asAdmin.WaitForAssertion(() => Assert.NotNull(asAdmin.Find("[data-testid=delete-ours]")), Wait);

        await SignInAsync("edna", TeamRole.Editor);
        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Equal(["ours"], ListedNames(page)), Wait);
        Assert.Empty(page.FindAll("[data-testid^=delete-]"));
        Assert.NotNull(page.Find("[data-testid=csv-upload]"));
        Assert.NotNull(page.Find("[data-testid=idx-upload]"));
    }

    [Fact]
    public async Task A_forged_delete_by_an_editor_is_refused_and_keeps_the_dataset()
    {
        var version = await IngestCsvAsync("ours", TestData.SeparableCsv(20));
        await SignInAsync("edna", TeamRole.Editor);
        RenderProviders();
        var snackbar = Render<MudSnackbarProvider>();
        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.Equal(["ours"], ListedNames(page)), Wait);

        var row = new Portal.Datasets.Datasets.DatasetRow { Id = version.DatasetId, TeamId = Team.DefaultId, Name = "ours", Versions = 1 };
        await page.InvokeAsync(() => page.Instance.DeleteAsync(row));

        snackbar.WaitForAssertion(() => Assert.Contains("needs the Admin role", snackbar.Markup), Wait);
        Assert.Single(Db(db => db.Datasets.ToList()));
        Assert.True(Directory.Exists(Path.Combine(DataDirectory, version.StoragePath)));
        Assert.DoesNotContain(Db(db => db.AuditEvents.Select(a => a.Action).ToList()), a => a == "dataset.deleted");
    }

    [Fact]
    public async Task A_forged_delete_of_another_teams_dataset_is_not_found()
    {
        var other = await OtherTeamAsync();
        var theirs = await IngestForTeamAsync("theirs", other);
        await SignInAsync("otto", TeamRole.Admin);
        RenderProviders();
        var snackbar = Render<MudSnackbarProvider>();
        var page = Render<Portal.Datasets.Datasets>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=no-datasets]")), Wait);

        var row = new Portal.Datasets.Datasets.DatasetRow { Id = theirs.DatasetId, TeamId = other, Name = "theirs", Versions = 1 };
        await page.InvokeAsync(() => page.Instance.DeleteAsync(row));

        snackbar.WaitForAssertion(() => Assert.Contains($"Dataset {theirs.DatasetId} was not found.", snackbar.Markup), Wait);
        Assert.Single(Db(db => db.Datasets.ToList()));
    }

    [Fact]
    public async Task An_open_page_follows_a_role_change_at_the_next_action()
    {
        var version = await IngestCsvAsync("ours", TestData.SeparableCsv(20));
        await SignInAsync("edna", TeamRole.Editor);
        RenderProviders();
        var detail = Render<DatasetDetail>(p => p.Add(d => d.Id, version.DatasetId));
        detail.WaitForAssertion(() => Assert.NotNull(detail.Find("[data-testid=dataset-name]")), Wait);

        // An Admin demotes her while the page is open: the page's next action is checked against the new role.
        await InScopeAsync(async sp =>
        {
            await sp.GetRequiredService<People>().SetMemberAsync(ModelOps.Portal.Identity.Team.DefaultId, "edna", TeamRole.Viewer, CancellationToken.None, actor: "test");
            return 0;
        });
        await detail.InvokeAsync(() => EventCallback.Factory.Create(detail.Instance, () => detail.Instance.MarkAsync("colour", true)).InvokeAsync());

        detail.WaitForAssertion(() => Assert.Contains("needs the Editor role", detail.Find("[data-testid=mark-error]").TextContent), Wait);
        Assert.Empty(Db(db => db.DatasetSensitiveColumns.ToList()));
    }

    [Fact]
    public async Task A_viewers_forged_sensitive_mark_is_refused_and_marks_nothing()
    {
        var version = await IngestCsvAsync("ours", TestData.SeparableCsv(20));
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();
        var detail = Render<DatasetDetail>(p => p.Add(d => d.Id, version.DatasetId));
        detail.WaitForAssertion(() => Assert.NotNull(detail.Find("[data-testid=dataset-name]")), Wait);

        // As a forged event would: through an EventCallback to the page, which renders it afterwards.
        await detail.InvokeAsync(() => EventCallback.Factory.Create(detail.Instance, () => detail.Instance.MarkAsync("colour", true)).InvokeAsync());

        detail.WaitForAssertion(() => Assert.Contains("needs the Editor role", detail.Find("[data-testid=mark-error]").TextContent), Wait);
        Assert.Empty(Db(db => db.DatasetSensitiveColumns.ToList()));
    }

    [Fact]
    public async Task An_editors_sensitive_mark_is_stored()
    {
        var version = await IngestCsvAsync("ours", TestData.SeparableCsv(20));
        await SignInAsync("edna", TeamRole.Editor);
        RenderProviders();
        Render<MudSnackbarProvider>();
        var detail = Render<DatasetDetail>(p => p.Add(d => d.Id, version.DatasetId));
        detail.WaitForAssertion(() => Assert.NotNull(detail.Find("[data-testid=sensitive-toggle-colour]")), Wait);

        await detail.InvokeAsync(() => detail.Instance.MarkAsync("colour", true));

        detail.WaitForAssertion(() => Assert.Single(Db(db => db.DatasetSensitiveColumns.Where(m => m.Sensitive).ToList())), Wait);
    }

    [Fact]
    public async Task A_viewers_forged_csv_upload_shows_the_refusal_and_stores_nothing()
    {
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();
        var uploaded = new List<DatasetVersion>();
        var form = Render<CsvUploadForm>(p => p.Add(f => f.Uploaded, EventCallback.Factory.Create<DatasetVersion>(this, v => uploaded.Add(v))));
        form.FindComponents<InputFile>()[^1].UploadFiles(InputFileContent.CreateFromText(TestData.SeparableCsv(20), "points.csv"));
        form.WaitForAssertion(() => Assert.Equal("points", form.Find("[data-testid=csv-name]").GetAttribute("value")), Wait);
        form.WaitForAssertion(() => Assert.False(form.Find("[data-testid=csv-submit]").HasAttribute("disabled")), Wait);

        form.Find("[data-testid=csv-submit]").Click();

        form.WaitForAssertion(() => Assert.Contains("needs the Editor role", form.Find("[data-testid=csv-error]").TextContent), Wait);
        Assert.Empty(uploaded);
        Assert.Empty(Db(db => db.Datasets.ToList()));
    }
}
