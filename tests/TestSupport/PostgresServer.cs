using System.Diagnostics;

namespace ModelOps.TestSupport;

/// <summary>
/// A real PostgreSQL server of the test's own: Debian's postgresql binaries (test.sh installs them),
/// a fresh cluster in a temp folder, reachable over a Unix socket in that folder only, stopped and
/// deleted on dispose. As root it runs as the postgres account, which the server insists on.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _bin;
    private readonly bool _asPostgres;

    private PostgresServer(string root, string bin, bool asPostgres, int port)
    {
        _root = root;
        _bin = bin;
        _asPostgres = asPostgres;
        Port = port;
    }

    public int Port { get; }
    public string ConnectionString => $"Host={_root};Port={Port};Username=modelops;Database=postgres";
    private string DataDirectory => Path.Combine(_root, "data");

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBin() ?? throw new InvalidOperationException(
            "PostgreSQL's initdb was not found on PATH or under /usr/lib/postgresql: install Debian's postgresql (test.sh does).");
        var root = Directory.CreateTempSubdirectory("mo-pg-").FullName;
        var asPostgres = Environment.UserName == "root";
        if (asPostgres) await RunAsync("chown", ["-R", "postgres:postgres", root]);
        var server = new PostgresServer(root, bin, asPostgres, PortalProcess.FreePort());
        await server.ToolAsync("initdb", ["-D", server.DataDirectory, "-U", "modelops", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        await server.ToolAsync("pg_ctl", ["-D", server.DataDirectory, "-w", "-t", "60", "-l", Path.Combine(root, "server.log"),
            "-o", $"-p {server.Port} -k {root} -c listen_addresses= -c fsync=off", "start"]);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped: the folder goes anyway.
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Task ToolAsync(string tool, IReadOnlyList<string> args) =>
        _asPostgres
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
            : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task RunAsync(string file, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await error} {await output}");
    }

    private static string? FindBin()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .FirstOrDefault(d => d.Length > 0 && File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        if (onPath is not null) return onPath;
        const string debian = "/usr/lib/postgresql";
        if (!Directory.Exists(debian)) return null;
        return Directory.EnumerateDirectories(debian)
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb")))
            .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            .FirstOrDefault();
    }
}
