using Microsoft.Extensions.Options;

namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// The data folder's layout. Every path is built from ids and fixed names; user-typed names never
/// reach the file system. <see cref="Resolve"/> refuses any stored relative path that escapes the root.
/// </summary>
public sealed class DataPaths(IOptions<PortalOptions> options)
{
    public string Root { get; } = options.Value.DataRoot;

    public string Temp => Ensure(Path.Combine(Root, "tmp"));
    public string DatasetVersionRelative(int datasetId, int version) => $"datasets/{datasetId}/v{version}";
    public string RunFolder(int runId) => Ensure(Path.Combine(Root, "runs", runId.ToString()));
    public string RunArtifact(int runId, string artifact) => Path.Combine(RunFolder(runId), artifact);
    public string ModelVersionRelative(int modelId, int version) => $"models/{modelId}/v{version}/model.mop";
    public string WorkFolder(int runId) => Ensure(Path.Combine(Root, "work", runId.ToString()));

    /// <summary>An absolute path for a stored relative one, confined to the data folder.</summary>
    public string Resolve(string relative)
    {
        var full = Path.GetFullPath(Path.Combine(Root, relative));
        var root = Path.TrimEndingDirectorySeparator(Root) + Path.DirectorySeparatorChar;
        if (!full.StartsWith(root, StringComparison.Ordinal))
            throw new PortalException(PortalError.Invalid, $"Stored path escapes the data folder.");
        return full;
    }

    public static string Ensure(string folder)
    {
        Directory.CreateDirectory(folder);
        return folder;
    }
}
