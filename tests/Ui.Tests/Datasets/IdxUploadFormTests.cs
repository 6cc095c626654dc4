using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Ui.Tests.Datasets;

/// <summary>The IDX form: four file slots, the service's checks shown as its sentences, nothing stored on failure.</summary>
public sealed class IdxUploadFormTests : DatasetsUiTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly List<DatasetVersion> uploaded = [];

    private IRenderedComponent<IdxUploadForm> RenderForm()
    {
        RenderProviders();
        return Render<IdxUploadForm>(p => p.Add(f => f.Uploaded, EventCallback.Factory.Create<DatasetVersion>(this, v => uploaded.Add(v))));
    }

    /// <summary>The live input of slot <paramref name="slot"/> (MudFileUpload adds one after each choice).</summary>
    private static void Choose(IRenderedComponent<IdxUploadForm> form, string slot, byte[] content, string fileName)
    {
        var upload = form.FindComponents<MudBlazor.MudFileUpload<IBrowserFile>>()
            .Single(u => form.Find($"[data-testid=idx-{slot}]") is { } input && u.Markup.Contains($"data-testid=\"idx-{slot}\"", StringComparison.Ordinal));
        upload.FindComponents<InputFile>()[^1].UploadFiles(InputFileContent.CreateFromBinary(content, fileName));
    }

    [Fact]
    public void The_button_waits_for_both_training_files_then_registers_the_images()
    {
        var form = RenderForm();
        Assert.True(form.Find("[data-testid=idx-submit]").HasAttribute("disabled"));
        Choose(form, "train-images", TestData.IdxImages(30), "digits-train-images-idx3-ubyte.gz");
        Assert.True(form.Find("[data-testid=idx-submit]").HasAttribute("disabled"));
        Assert.Equal("digits", form.Find("[data-testid=idx-name]").GetAttribute("value"));
        Choose(form, "train-labels", TestData.IdxLabels(30), "digits-train-labels-idx1-ubyte.gz");
        form.Find("[data-testid=idx-classes]").Change("zero, one, two");
        form.Find("[data-testid=idx-submit]").Click();
        form.WaitForAssertion(() => Assert.Single(uploaded), Wait);
        var profile = DatasetIngest.ReadProfile(uploaded[0]);
        Assert.Equal(30, profile.Rows);
        Assert.Equal(["zero", "one", "two"], profile.ClassNames);
    }

    [Fact]
    public void Labels_that_do_not_match_the_images_give_the_services_sentence_and_store_nothing()
    {
        var form = RenderForm();
        Choose(form, "train-images", TestData.IdxImages(30), "train-images.gz");
        Choose(form, "train-labels", TestData.IdxLabels(20), "train-labels.gz");
        form.Find("[data-testid=idx-submit]").Click();
        form.WaitForAssertion(() => Assert.NotEmpty(form.Find("[data-testid=idx-error]").TextContent.Trim()), Wait);
        Assert.Empty(uploaded);
        Assert.Empty(Db(db => db.DatasetVersions.ToList()));
    }

    [Fact]
    public void Class_names_that_repeat_are_refused_under_their_field()
    {
        var form = RenderForm();
        Choose(form, "train-images", TestData.IdxImages(30), "train-images.gz");
        Choose(form, "train-labels", TestData.IdxLabels(30), "train-labels.gz");
        form.Find("[data-testid=idx-name]").Change("digits");
        form.Find("[data-testid=idx-classes]").Change("a, a, b");
        form.Find("[data-testid=idx-submit]").Click();
        form.WaitForAssertion(() => Assert.Contains("The class names must all be different.", form.Find("[data-testid=idx-classes-problem]").TextContent), Wait);
        Assert.Empty(form.FindAll("[data-testid=idx-error]"));
        Assert.Empty(uploaded);
    }

    [Fact]
    public void The_form_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        var form = RenderForm();
        var text = form.Find("[data-testid=idx-upload]").TextContent;
        Assert.Contains("登记 IDX 图像", text);
        Assert.Contains("训练图像", text);
        Assert.DoesNotContain("Training images", text);
    }
}
