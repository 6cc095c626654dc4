using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ModelOps.Benchmarks.Engine;

/// <summary>Runs a measurement in a child process (peer.py, or this bench's own memory-child) and reads its JSON line.</summary>
public static class ChildProcess
{
    public static string PeerScript => Path.Combine(AppContext.BaseDirectory, "peer.py");

    public static JsonElement Python(BenchOptions o, string command, params string[] extra) =>
        Run(o.Python, [PeerScript, command, .. Common(o), .. extra]);

    /// <summary>This executable again, so the peak resident set is the measured process's own.</summary>
    public static JsonElement Self(BenchOptions o, string command, params string[] extra) =>
        Run(Environment.ProcessPath ?? throw new InvalidOperationException("no process path"),
            [command, .. Common(o), .. extra]);

    private static string[] Common(BenchOptions o) =>
        ["--threads", Str(o.Threads), "--seed", Str(o.Seed), "--data", o.DataDir, .. o.Samples is { } n ? new[] { "--samples", Str(n) } : []];

    private static JsonElement Run(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string? last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (process.ExitCode != 0 || last is null || !last.StartsWith('{'))
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args.Take(2))} exited with {process.ExitCode}: {Tail(output)}");
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    private static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Tail(string s) => s.Length <= 300 ? s.Trim() : "..." + s[^300..].Trim();
}
