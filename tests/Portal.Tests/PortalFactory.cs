using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// The portal in-process over a real SQLite file in a temp data folder. Dispatch is paused: no
/// worker process could call back into an in-process server, so tests that need a worker play
/// its part over the same REST protocol (see WorkerProtocolTests).
/// </summary>
public sealed class PortalFactory : WebApplicationFactory<Program>
{
    private readonly TempFolder _data = new();
    private readonly Dictionary<string, string?> _settings = new();

    public string DataDirectory => _data.Path;

    public PortalFactory With(string key, string value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ModelOps:DataDirectory", _data.Path);
        builder.UseSetting("ModelOps:SeedDemoData", "false");
        builder.UseSetting("ModelOps:PauseDispatch", "true");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }

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
        Directory.EnumerateFiles(_data.Path, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_data.Path, f))
            .Where(f => !f.StartsWith("modelops.db", StringComparison.Ordinal) && !f.StartsWith("jobs.db", StringComparison.Ordinal))
            .ToList();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            _data.Dispose();
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
