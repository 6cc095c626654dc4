using System.Net;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Jobs;

namespace ModelOps.Portal.Tests;

/// <summary>Hangfire's dashboard at /hangfire, over this portal's own job store, for local callers only.</summary>
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

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("10.1.2.3", false)]
    [InlineData("192.168.0.20", false)]
    public void Only_local_callers_are_let_in(string remote, bool allowed)
    {
        var http = new DefaultHttpContext { RequestServices = _portal.Services };
        http.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        var storage = _portal.Services.GetRequiredService<JobsHost>().Storage;
        var context = new AspNetCoreDashboardContext(storage, new Hangfire.DashboardOptions(), http);
        Assert.Equal(allowed, new JobsDashboard.LocalRequestsOnly().Authorize(context));
    }
}
