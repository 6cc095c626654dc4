using Microsoft.EntityFrameworkCore;
using AngleSharp.Dom;
using Microsoft.AspNetCore.Components;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;
using MudBlazor;

namespace ModelOps.Ui.Tests.Audit;

/// <summary>
/// The Audit page over the real AuditQuery and SQLite: rows render newest first with their before and after, each
/// filter narrows them when it changes and the count follows, the Export CSV link carries the filters, a reversed
/// date range is explained, the team seam restricts the rows, and the page speaks Chinese in zh-CN.
/// </summary>
public sealed class AuditPageTests : PortalUiTest
{
    private static readonly DateTime March = new(2026, 3, 1, 10, 0, 0, DateTimeKind.Utc);

    public AuditPageTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Render<MudPopoverProvider>();
        Db(db =>
        {
            // Only the rows below: the signed-in user's own creation is audited too.
            db.AuditEvents.ExecuteDelete();
            db.AuditEvents.AddRange(
                new AuditEvent { At = March, Actor = "dana", Action = "model.version.registered", Subject = "model:churn:v1", Details = "from run 4" },
                new AuditEvent { At = March.AddDays(1), Actor = "dana", Action = "model.stage.changed", Subject = "model:churn:v1", Before = "Staging", After = "Production" },
                new AuditEvent { At = March.AddDays(2), Actor = "fox", Action = "token.revoked", Subject = "token:mop_abc", Before = "active", After = "revoked", TeamId = 1 },
                new AuditEvent { At = March.AddDays(3), Actor = "fox", Action = "schedule.paused", Subject = "schedule:nightly", TeamId = 2 });
            return db.SaveChanges();
        });
    }

    private static IElement Input<T>(IRenderedComponent<T> page, string testId) where T : IComponent
    {
        var element = page.Find($"[data-testid={testId}]");
        return element.TagName == "INPUT" ? element : element.QuerySelector("input")!;
    }

    [Fact]
    public void Rows_render_newest_first_with_before_and_after_and_the_count()
    {
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row").Count));
        var rows = page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row");
        Assert.Contains("schedule:nightly", rows[0].TextContent);
        Assert.Contains("model.version.registered", rows[3].TextContent);
        Assert.Contains("from run 4", rows[3].TextContent);
        var change = rows[2].QuerySelector("[data-testid=audit-change]")!;
        Assert.Contains("Staging", change.QuerySelector(".audit-before")!.TextContent);
        Assert.Contains("Production", change.QuerySelector(".audit-after")!.TextContent);
        Assert.Null(rows[0].QuerySelector("[data-testid=audit-change]"));
        Assert.Contains("UTC", rows[0].TextContent);
        Assert.Contains("4 matching events", page.Find("[data-testid=audit-count]").TextContent);
    }

    [Fact]
    public void Filters_narrow_the_rows_when_they_change_and_the_export_link_carries_them()
    {
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row").Count));
        Assert.Equal("/api/v1/audit/export.csv", page.Find("[data-testid=audit-export]").GetAttribute("href"));
        Assert.True(page.Find("[data-testid=audit-export]").HasAttribute("download"));

        Input(page, "audit-person").Change("DANA");
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row").Count));
        Assert.Contains("2 matching events", page.Find("[data-testid=audit-count]").TextContent);

        Input(page, "audit-action").Change("model.stage");
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row")));
        Assert.Contains("model.stage.changed", page.Find("[data-testid=audit-list] tbody tr.mud-table-row").TextContent);

        Input(page, "audit-person").Change("");
        Input(page, "audit-action").Change("");
        Input(page, "audit-resource").Change("model:churn");
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row").Count));

        Input(page, "audit-person").Change("dana & co");
        page.WaitForAssertion(() => Assert.Contains("0 matching events", page.Find("[data-testid=audit-count]").TextContent));
        Assert.NotNull(page.Find("[data-testid=audit-none]"));
        Assert.Equal("/api/v1/audit/export.csv?person=dana%20%26%20co&resource=model%3Achurn",
            page.Find("[data-testid=audit-export]").GetAttribute("href"));
    }

    [Fact]
    public void Date_filters_narrow_the_rows_and_a_reversed_range_is_explained()
    {
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row").Count));
        Input(page, "audit-from").Change("2026-03-02");
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row").Count));
        Input(page, "audit-to").Change("2026-03-03");
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row").Count));
        Assert.Equal("/api/v1/audit/export.csv?from=2026-03-02&to=2026-03-03", page.Find("[data-testid=audit-export]").GetAttribute("href"));

        Input(page, "audit-from").Change("2026-03-04");
        page.WaitForAssertion(() => Assert.Contains("starts after it ends", page.Find("[data-testid=audit-error]").TextContent));
    }

    [Fact]
    public void The_team_seam_restricts_the_rows()
    {
        var page = Render<TeamOneAuditPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row")));
        Assert.Contains("token:mop_abc", page.Find("[data-testid=audit-list] tbody tr.mud-table-row").TextContent);
    }

    [Fact]
    public void The_page_speaks_chinese_in_zh_CN()
    {
        UseCulture(PortalCultures.Chinese);
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-testid=audit-list] tbody tr.mud-table-row").Count));
        Assert.Contains("审计记录", page.Markup);
        Assert.Contains("导出 CSV", page.Find("[data-testid=audit-export]").TextContent);
        Assert.Contains("4 条匹配的事件", page.Find("[data-testid=audit-count]").TextContent);
        Assert.Contains("更改前 → 更改后", page.Markup);
        Assert.DoesNotContain("Export CSV", page.Markup);
        Assert.DoesNotContain("matching events", page.Markup);
    }

    /// <summary>What the integrator's override looks like: an Approver of team 1.</summary>
    private sealed class TeamOneAuditPage : AuditPage
    {
        protected override Task<IReadOnlyCollection<int>?> AuditScopeAsync() => Task.FromResult<IReadOnlyCollection<int>?>([1]);
    }
}
