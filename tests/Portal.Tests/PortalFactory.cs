using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// The portal in-process over a real SQLite file in a temp data folder. It starts with a first Admin
/// ("admin", from configuration as a deployment would) and every client it makes carries a personal
/// token of that Admin; <see cref="ClientForAsync"/> makes real users with a role, and
/// <see cref="AnonymousClient"/> one without credentials. Dispatch is paused: no
/// worker process could call back into an in-process server, so tests that need a worker play
/// its part over the same REST protocol (see WorkerProtocolTests).
/// </summary>
public sealed class PortalFactory : WebApplicationFactory<Program>
{
    private readonly TempFolder? _data;
    private readonly Dictionary<string, string?> _settings = new();

    /// <summary>A portal over a temp data folder of its own (also what xunit's class fixtures make).</summary>
    public PortalFactory() : this(null)
    {
    }

    /// <summary>A portal over <paramref name="dataDirectory"/>, which it leaves in place: a restart of an earlier one.</summary>
    public static PortalFactory Over(string dataDirectory) => new(dataDirectory);

    private PortalFactory(string? dataDirectory)
    {
        _data = dataDirectory is null ? new TempFolder() : null;
        DataDirectory = dataDirectory ?? _data!.Path;
    }

    public string DataDirectory { get; }

    public PortalFactory With(string key, string value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ModelOps:DataDirectory", DataDirectory);
        builder.UseSetting("ModelOps:SeedDemoData", "false");
        builder.UseSetting("ModelOps:PauseDispatch", "true");
        builder.UseSetting("ModelOps:Auth:AdminUserName", AdminName);
        builder.UseSetting("ModelOps:Auth:AdminPassword", AdminPassword);
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }

    public const string AdminName = "admin";
    public const string AdminPassword = "admin-test-password";

    private string? _adminToken;

    /// <summary>A personal token of the first Admin (a site Admin, Admin of the default team).</summary>
    public string AdminToken => _adminToken ??= IssueAsync(AdminName, null).GetAwaiter().GetResult();

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
    }

    /// <summary>A client with no credentials at all.</summary>
    public HttpClient AnonymousClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    /// <summary>A client acting as <paramref name="userName"/> (created on first use) with the role in the team, through a personal token.</summary>
    public async Task<HttpClient> ClientForAsync(string userName, Identity.TeamRole role, int teamId = Identity.Team.DefaultId, bool readOnly = false)
    {
        var token = await IssueAsync(userName, (teamId, role), readOnly);
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A team made by the Admin, by id.</summary>
    public Task<int> TeamAsync(string name) => InScopeAsync(async sp =>
    {
        var db = sp.GetRequiredService<PortalDb>();
        var existing = await db.Teams.Where(t => t.Name == name).Select(t => (int?)t.Id).FirstOrDefaultAsync();
        return existing ?? (await sp.GetRequiredService<Identity.People>().CreateTeamAsync(name, null, CancellationToken.None)).Id;
    });

    private Task<string> IssueAsync(string userName, (int Team, Identity.TeamRole Role)? membership, bool readOnly = false) => InScopeAsync(async sp =>
    {
        var db = sp.GetRequiredService<PortalDb>();
        var people = sp.GetRequiredService<Identity.People>();
        var userId = await db.Users.Where(u => u.UserName == userName).Select(u => (int?)u.Id).FirstOrDefaultAsync()
                     ?? (await people.CreateUserAsync(userName, null, userName + "-test-password", siteAdmin: false, CancellationToken.None, actor: "test")).Id;
        if (membership is { } m) await people.SetMemberAsync(m.Team, userName, m.Role, CancellationToken.None, actor: "test");
        var token = await sp.GetRequiredService<ModelOps.Portal.Tracking.TokenService>().IssueAsync("test", null, userId, userName, null, null, readOnly, CancellationToken.None);
        return token.Token;
    });

    public T Db<T>(Func<PortalDb, T> query)
    {
        using var scope = Services.CreateScope();
        return query(scope.ServiceProvider.GetRequiredService<PortalDb>());
    }

    public async Task<T> InScopeAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        using var scope = Services.CreateScope();
        return await action(scope.ServiceProvider);
    }

    /// <summary>Files under the data folder, relative, excluding the databases.</summary>
    public IReadOnlyList<string> DataFiles() =>
        Directory.EnumerateFiles(DataDirectory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(DataDirectory, f))
            .Where(f => !f.StartsWith("modelops.db", StringComparison.Ordinal) && !f.StartsWith("jobs.db", StringComparison.Ordinal) && !f.StartsWith("keys" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToList();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            _data?.Dispose();
        }
    }
}

public static class HttpAssert
{
    public static async Task<System.Text.Json.JsonElement> ProblemAsync(HttpResponseMessage response, int status, string detailContains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = System.Text.Json.JsonDocument.Parse(body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString());
        return problem.Clone();
    }
}
