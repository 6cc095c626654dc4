using AngleSharp.Dom;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Ui.Tests.Datasets;

/// <summary>The CSV upload form: the preview through the service, header choices, names edited in place, the service's sentences where they belong.</summary>
public sealed class CsvUploadFormTests : DatasetsUiTest
{
    /// <summary>scikit-learn's iris.csv starts with a description line: row count, feature count, class names.</summary>
    private const string IrisLike =
        "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n6.4,3.2,4.5,1.5,1\n6.3,3.3,6.0,2.5,2\n5.8,2.7,5.1,1.9,2\n";

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly List<DatasetVersion> uploaded = [];

    private IRenderedComponent<CsvUploadForm> RenderForm()
    {
        RenderProviders();
        return Render<CsvUploadForm>(p => p.Add(f => f.Uploaded, EventCallback.Factory.Create<DatasetVersion>(this, v => uploaded.Add(v))));
    }

    /// <summary>Picks a file: MudFileUpload adds a fresh input after each choice, the last one is the live one.</summary>
    private static void Choose(IRenderedComponent<CsvUploadForm> form, string csv, string fileName = "data.csv") =>
        form.FindComponents<InputFile>()[^1].UploadFiles(InputFileContent.CreateFromText(csv, fileName));

    private static IElement Field(IRenderedComponent<CsvUploadForm> form, string testId) => form.Find($"[data-testid={testId}]");

    /// <summary>Changes a field once the preview is idle (each change re-reads the file and re-renders the table).</summary>
    private static void ChangeWhenIdle(IRenderedComponent<CsvUploadForm> form, string testId, string value)
    {
        form.WaitForAssertion(() => Assert.Empty(form.FindAll("[data-testid=csv-previewing]")), Wait);
        Field(form, testId).Change(value);
        form.WaitForAssertion(() => Assert.Empty(form.FindAll("[data-testid=csv-previewing]")), Wait);
    }

    private static string[] ColumnNames(IRenderedComponent<CsvUploadForm> form) =>
        form.FindAll("[data-testid^=csv-column-]").Where(e => e.TagName == "INPUT").Select(e => e.GetAttribute("value") ?? "").ToArray();

    [Fact]
    public void A_chosen_file_is_previewed_with_its_header_names_then_uploaded_and_reported()
    {
        var form = RenderForm();
        Choose(form, TestData.SeparableCsv(40), "points.csv");
        form.WaitForAssertion(() => Assert.Equal(["x", "y", "colour", "label"], ColumnNames(form)), Wait);
        Assert.Equal("points", Field(form, "csv-name").GetAttribute("value"));
        Assert.Contains("40 rows", Field(form, "csv-preview").TextContent);
        Assert.Contains("Default: the last column (label).", form.Markup);
        Assert.Empty(Db(db => db.Datasets.ToList())); // the preview stores nothing

        Field(form, "csv-submit").Click();
        form.WaitForAssertion(() => Assert.Single(uploaded), Wait);
        var version = uploaded[0];
        Assert.Equal(40, version.Rows);
        Assert.Equal("points", Db(db => db.Datasets.Single().Name));
        Assert.Equal(["x", "y", "colour", "label"], DatasetIngest.ReadProfile(version).Columns.Select(c => c.Name));
    }

    [Fact]
    public void A_ragged_csv_shows_the_services_sentence_and_stores_nothing()
    {
        var form = RenderForm();
        Choose(form, "x,y,colour,label\n1.0,2.0,red,high\n3.0,4.0,blue\n-1.0,-2.0,green,low\n", "ragged.csv");
        form.WaitForAssertion(() => Assert.Contains("Line 3 has 3 fields; the header has 4.", Field(form, "csv-error").TextContent), Wait);
        Field(form, "csv-submit").Click();
        form.WaitForAssertion(() => Assert.False(Field(form, "csv-submit").HasAttribute("disabled")), Wait);
        Assert.Contains("Line 3 has 3 fields; the header has 4.", Field(form, "csv-error").TextContent);
        Assert.Empty(uploaded);
        Assert.Empty(Db(db => db.DatasetVersions.ToList()));
        var stored = Path.Combine(DataDirectory, "datasets");
        Assert.True(!Directory.Exists(stored) || Directory.GetFileSystemEntries(stored).Length == 0, "a refused upload left files behind");
    }

    [Fact]
    public void A_file_over_the_limit_is_refused_before_it_is_sent()
    {
        // The options are the portal's own singleton (DatasetIngest reads the same instance).
        Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PortalOptions>>().Value.MaxUploadBytes = 100;
        var form = RenderForm();
        Choose(form, TestData.SeparableCsv(20));
        form.WaitForAssertion(() => Assert.False(Field(form, "csv-submit").HasAttribute("disabled")), Wait);
        Field(form, "csv-submit").Click();
        form.WaitForAssertion(() => Assert.Contains("The upload is larger than the limit of 100 bytes.", Field(form, "csv-error").TextContent), Wait);
        Assert.Empty(uploaded);
        Assert.Empty(Db(db => db.DatasetVersions.ToList()));
    }

    [Fact]
    public void A_description_line_is_refused_as_a_header_then_skipped_with_generated_names_that_can_be_changed()
    {
        var form = RenderForm();
        Choose(form, IrisLike, "iris.csv");
        form.WaitForAssertion(() => Assert.Contains("Line 1 does not look like a header", Field(form, "csv-error").TextContent), Wait);
        Assert.Contains("skip the first row", Field(form, "csv-error").TextContent);

        Field(form, "csv-header-skip").Click();
        form.WaitForAssertion(() => Assert.Equal(["column_1", "column_2", "column_3", "column_4", "column_5"], ColumnNames(form)), Wait);
        Assert.Empty(form.FindAll("[data-testid=csv-error]"));
        Assert.Contains("150,4,setosa,versicolor,virginica", Field(form, "csv-skipped-line").TextContent);
        Assert.Contains("5 rows", Field(form, "csv-preview").TextContent);

        // A name given twice: the service's sentence under the names, the table stays to put it right.
        ChangeWhenIdle(form, "csv-column-2", "column_1");
        form.WaitForAssertion(() => Assert.Contains("The column name 'column_1' is given twice (names 1 and 2)", Field(form, "csv-columns-problem").TextContent), Wait);
        Assert.Equal(5, ColumnNames(form).Length);

        string[] names = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"];
        for (var i = 0; i < names.Length; i++)
            ChangeWhenIdle(form, $"csv-column-{i + 1}", names[i]);
        form.WaitForAssertion(() => Assert.Empty(form.FindAll("[data-testid=csv-columns-problem]")), Wait);
        form.WaitForAssertion(() => Assert.Contains("Default: the last column (species).", form.Markup), Wait);

        Field(form, "csv-submit").Click();
        form.WaitForAssertion(() => Assert.Single(uploaded), Wait);
        var profile = DatasetIngest.ReadProfile(uploaded[0]);
        Assert.Equal(names, profile.Columns.Select(c => c.Name));
        Assert.Equal(5, profile.Rows);
        Assert.Equal(nameof(CsvHeaderMode.SkipFirstRow), profile.HeaderMode);
        Assert.Equal("species", profile.LabelColumn);
    }

    [Fact]
    public void A_file_without_a_header_reads_line_one_as_data()
    {
        var form = RenderForm();
        Choose(form, "1.0,2.0,a\n3.0,4.0,b\n5.0,6.0,a\n");
        form.WaitForAssertion(() => Assert.Contains("Line 1 does not look like a header", Field(form, "csv-error").TextContent), Wait);
        Field(form, "csv-header-data").Click();
        form.WaitForAssertion(() => Assert.Equal(["column_1", "column_2", "column_3"], ColumnNames(form)), Wait);
        Assert.Contains("3 rows", Field(form, "csv-preview").TextContent);
        ChangeWhenIdle(form, "csv-name", "no-header");
        Field(form, "csv-submit").Click();
        form.WaitForAssertion(() => Assert.Single(uploaded), Wait);
        Assert.Equal(3, uploaded[0].Rows);
    }

    [Fact]
    public void An_unknown_label_column_is_named_with_the_columns_there_are()
    {
        var form = RenderForm();
        Choose(form, TestData.SeparableCsv(10));
        form.WaitForAssertion(() => Assert.Equal(4, ColumnNames(form).Length), Wait);
        ChangeWhenIdle(form, "csv-label", "klass");
        form.WaitForAssertion(() => Assert.Contains("klass", Field(form, "csv-error").TextContent), Wait);
        Assert.Empty(uploaded);
    }

    [Fact]
    public void Missing_cells_are_counted_in_the_preview()
    {
        var form = RenderForm();
        Choose(form, CsvWithMissing());
        form.WaitForAssertion(() => Assert.Equal(4, ColumnNames(form).Length), Wait);
        var types = form.FindAll("[data-testid=csv-column-type]").Select(e => e.TextContent.Trim()).ToList();
        Assert.Equal(4, types.Count);
        Assert.StartsWith("numeric", types[0], StringComparison.Ordinal);
        Assert.Contains("1 missing", types[0]);
        Assert.Contains("1 missing", types[1]);
        Assert.StartsWith("categorical", types[2], StringComparison.Ordinal);
        Assert.Contains("1 missing", types[2]);
        Assert.DoesNotContain("missing", types[3]);
    }

    [Fact]
    public void Inputs_stay_disabled_until_the_circuit_is_live()
    {
        SetRendererInfo(new RendererInfo("Static", isInteractive: false));
        var form = RenderForm();
        Assert.True(Field(form, "csv-name").HasAttribute("disabled"));
        Assert.True(Field(form, "csv-submit").HasAttribute("disabled"));
        Assert.True(Field(form, "csv-choose").HasAttribute("disabled"));
        Assert.True(Field(form, "csv-header-skip").HasAttribute("disabled"));
    }

    [Fact]
    public void The_form_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        var form = RenderForm();
        var text = form.Find("[data-testid=csv-upload]").TextContent;
        Assert.Contains("上传 CSV", text);
        Assert.Contains("第一行", text);
        Assert.Contains("是文件说明：跳过", text);
        Assert.DoesNotContain("Upload CSV", text);
        Assert.DoesNotContain("First row", text);
    }
}
