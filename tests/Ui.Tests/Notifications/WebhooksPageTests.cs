using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Notifications;
using MudBlazor;

namespace ModelOps.Ui.Tests.Notifications;

/// <summary>
/// The Webhooks page over a real store: an Admin creates a hook from the form and sees its secret
/// once, toggles it, reads its (empty) delivery log; a Viewer gets no form and a forged create is
/// refused with the service's reason.
/// </summary>
public sealed class WebhooksPageTests : PortalUiTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public WebhooksPageTests() => SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));

    private void RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        Render<MudDialogProvider>();
    }

    [Fact]
    public async Task An_admin_creates_a_hook_sees_the_secret_once_and_disables_it()
    {
        RenderProviders();
        var page = Render<Webhooks>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=hook-none]")), Wait);
        page.Find("[data-testid=hook-name]").Input("chat");
        page.Find("[data-testid=hook-url]").Input("https://203.0.113.7/hook");
        page.Find($"[data-testid='hook-event-{EventTypes.PromotionRequested}']").Change(true);
        page.Find("[data-testid=hook-create]").Click();
        page.WaitForAssertion(() => Assert.StartsWith("whsec_", page.Find("[data-testid=hook-secret]").TextContent), Wait);

        var hook = Db(db => db.Set<Webhook>().Single());
        Assert.Equal("chat", hook.Name);
        Assert.Equal([EventTypes.PromotionRequested, EventTypes.RunFailed], hook.EventList);
        Assert.DoesNotContain(page.Find("[data-testid=hook-secret]").TextContent, hook.ProtectedSecret);
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid=hook-{hook.Id}]")), Wait);

        var toggle = page.FindComponents<MudSwitch<bool>>().Single();
        await page.InvokeAsync(() => toggle.Instance.ValueChanged.InvokeAsync(false));
        page.WaitForAssertion(() => Assert.False(Db(db => db.Set<Webhook>().Single().Enabled)), Wait);

        page.Find($"[data-testid=hook-log-{hook.Id}]").Click();
        page.WaitForAssertion(() => Assert.Contains("Nothing delivered yet.", page.Find($"[data-testid=hook-deliveries-{hook.Id}]").TextContent), Wait);
    }

    [Fact]
    public async Task A_private_address_is_refused_with_the_guards_sentence()
    {
        RenderProviders();
        var page = Render<Webhooks>();
        page.Find("[data-testid=hook-name]").Input("internal");
        page.Find("[data-testid=hook-url]").Input("http://169.254.169.254/latest");
        page.Find("[data-testid=hook-create]").Click();
        page.WaitForAssertion(() => Assert.Contains("link-local", page.Find("[data-testid=hook-error]").TextContent), Wait);
        Assert.Equal(0, Db(db => db.Set<Webhook>().Count()));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_viewer_gets_no_form_and_a_forged_create_is_refused()
    {
        await SignInAsync("vic", TeamRole.Viewer);
        RenderProviders();
        var page = Render<Webhooks>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=hook-readonly]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=hook-form]"));
        await page.InvokeAsync(() => page.Instance.CreateAsync());
        Assert.Equal(0, Db(db => db.Set<Webhook>().Count()));
    }
}
