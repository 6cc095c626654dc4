namespace ModelOps.Ui.Tests;

/// <summary>The repository's source files, found from the test assembly's folder.</summary>
internal static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    public static string PortalSource => Path.Combine(Root, "src", "Portal");

    /// <summary>Files under src/Portal with the extension, outside bin/ and obj/.</summary>
    public static IEnumerable<string> Portal(string extension) =>
        Directory.EnumerateFiles(PortalSource, "*" + extension, SearchOption.AllDirectories)
            .Where(f => !Relative(f).StartsWith("bin/", StringComparison.Ordinal)
                        && !Relative(f).StartsWith("obj/", StringComparison.Ordinal)
                        && !Relative(f).StartsWith("node_modules/", StringComparison.Ordinal));

    public static string Relative(string path) => Path.GetRelativePath(PortalSource, path).Replace('\\', '/');

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ModelOpsPortal.sln")))
                return dir.FullName;
        throw new InvalidOperationException("ModelOpsPortal.sln not found above " + AppContext.BaseDirectory);
    }
}
