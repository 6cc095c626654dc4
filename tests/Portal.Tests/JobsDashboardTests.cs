using System.Net;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Jobs;

namespace ModelOps.Portal.Tests;

/// <summary>Hangfire's dashboard at /hangfire, over this portal's own job store, for signed-in people only.</summary>
public sealed class JobsDashboardTests : IDisposable
{
    private readonly PortalFactory _portal = new();

    public void Dispose() => _portal.Dispose();

    [Fact]
    public async Task The_dashboard_shows_this_portals_queue()
    {
        var http = _portal.CreateClient();
        var runId = await SimulatedWorker.QueueCsvRunAsync(http);

        var page = await http.GetAsync("/hangfire/jobs/enqueued/cpu");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("ModelOps · Hangfire", html);
        // The queued run's job is listed (the job names its method and the run id).
        Assert.Contains("TrainingJob", html);
        Assert.Contains($"RunAsync", html);
        var job = _portal.Db(db => db.Runs.Single(r => r.Id == runId).JobId);
        Assert.Contains($"/hangfire/jobs/details/{job}", html);
    }

    [Fact]
    public async Task Without_a_signed_in_person_the_dashboard_answers_401()
    {
        using var anonymous = _portal.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        anonymous.DefaultRequestHeaders.Authorization = null;
        using var response = await anonymous.GetAsync("/hangfire/jobs/enqueued/cpu");
        // A browser is sent to sign in (the path matches a page route first), a script gets 401; nothing of the dashboard either way.
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized || (response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.ToString().Contains("/login")),
            $"{(int)response.StatusCode} {response.Headers.Location}");
        Assert.DoesNotContain("Hangfire", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_team_member_who_is_not_a_site_Admin_gets_403()
    {
        using var teamAdmin = await _portal.ClientForAsync("tia", Identity.TeamRole.Admin);
        Assert.Equal(HttpStatusCode.Forbidden, (await teamAdmin.GetAsync("/hangfire/jobs/enqueued/cpu")).StatusCode);
    }

    [Fact]
    public void Only_a_signed_in_person_is_let_in()
    {
        var storage = _portal.Services.GetRequiredService<JobsHost>().Storage;
        bool Allowed(System.Security.Claims.ClaimsPrincipal user) =>
            new JobsDashboard.SignedInOnly().Authorize(new AspNetCoreDashboardContext(storage, new Hangfire.DashboardOptions(),
                new DefaultHttpContext { RequestServices = _portal.Services, User = user }));
        Assert.False(Allowed(new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity())));
        Assert.True(Allowed(new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("name", "admin")], "Identity.Application"))));
        Assert.False(Allowed(new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim(Identity.PortalClaims.WorkerRun, "3")], "Bearer"))));
    }
}
