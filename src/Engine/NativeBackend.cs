using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using TorchSharp;

namespace ModelOps.Engine;

/// <summary>
/// Which LibTorch the process runs on. By default TorchSharp loads the CPU LibTorch 2.10 of the
/// libtorch-cpu-linux-x64 package. A GPU server sets <c>ModelOps:LibTorchDirectory</c> (the worker
/// receives it as <see cref="DirectoryVariable"/>) to a CUDA LibTorch 2.10, for example the
/// <c>torch</c> folder of a CUDA build of PyTorch 2.10: its libraries are loaded by absolute path
/// before the first torch call, and TorchSharp then binds to them instead of the package's.
/// TorchSharp's own CUDA packages for Linux are not served, which is why this exists.
/// </summary>
public static partial class NativeBackend
{
    public const string DirectoryVariable = "MODELOPS_LIBTORCH_DIR";

    /// <summary>The LibTorch line TorchSharp 0.107 is built against.</summary>
    public const string RequiredVersion = "2.10";

    private static readonly Lock Gate = new();
    private static string? configured;
    private static bool attempted;
    private static LibTorchInstall? install;

    /// <summary>What a configured LibTorch folder holds.</summary>
    public sealed record LibTorchInstall(string Directory, string LibraryDirectory, string Version, bool HasCuda);

    /// <summary>Why the configured LibTorch could not be used; null when none is configured or it loaded.</summary>
    public static string? LoadError { get; private set; }

    /// <summary>Sets the LibTorch folder; must come before the first torch call. Null or empty keeps the package's CPU LibTorch.</summary>
    public static void Configure(string? libTorchDirectory)
    {
        lock (Gate)
        {
            if (attempted && !string.Equals(configured, libTorchDirectory, StringComparison.Ordinal))
                throw new InvalidOperationException("the LibTorch folder must be configured before the first torch call");
            configured = string.IsNullOrWhiteSpace(libTorchDirectory) ? null : libTorchDirectory;
        }
    }

    /// <summary>
    /// Loads the configured LibTorch once. A folder that is missing, holds no libtorch.so or holds another
    /// version is not loaded at all (so the package's CPU LibTorch still works for runs that asked for
    /// <c>auto</c> or <c>cpu</c>) and <see cref="LoadError"/> says what was found.
    /// </summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (attempted) return;
            attempted = true;
            string? directory = configured ?? Environment.GetEnvironmentVariable(DirectoryVariable);
            if (string.IsNullOrWhiteSpace(directory)) return;
            try
            {
                var found = Inspect(directory);
                // libtorch_cuda registers the CUDA backend from its static initialisers; load it first so
                // libtorch.so (and TorchSharp's shim after it) bind to this copy of libtorch_cpu.
                if (found.HasCuda) NativeLibrary.Load(Path.Combine(found.LibraryDirectory, "libtorch_cuda.so"));
                NativeLibrary.Load(Path.Combine(found.LibraryDirectory, "libtorch.so"));
                if (found.HasCuda) torch.InitializeDeviceType(DeviceType.CUDA);
                install = found;
            }
            catch (Exception e) when (e is LibTorchNotUsableException or DllNotFoundException or BadImageFormatException or ExternalException or InvalidOperationException)
            {
                LoadError = e is LibTorchNotUsableException ? e.Message : $"LibTorch in '{directory}' did not load: {e.Message}";
            }
        }
    }

    /// <summary>One line for logs and errors: which LibTorch runs, or why the configured one does not.</summary>
    public static string Describe()
    {
        EnsureLoaded();
        if (install is { } i) return $"LibTorch {i.Version} from {i.LibraryDirectory}{(i.HasCuda ? " (CUDA build)" : " (CPU build)")}";
        string packaged = $"the CPU LibTorch {RequiredVersion} of the libtorch-cpu-linux-x64 package";
        return LoadError is null ? packaged : $"{LoadError}; running on {packaged}";
    }

    /// <summary>
    /// Checks a LibTorch folder without loading it: either a LibTorch distribution or PyTorch's
    /// <c>torch</c> folder (both have <c>lib/libtorch.so</c>), or that <c>lib</c> folder itself; the
    /// version comes from PyTorch's <c>version.py</c> or LibTorch's <c>build-version</c>.
    /// </summary>
    /// <exception cref="LibTorchNotUsableException">The folder is missing, incomplete or of another version.</exception>
    public static LibTorchInstall Inspect(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
            throw new LibTorchNotUsableException($"the LibTorch folder '{root}' does not exist");
        string lib = File.Exists(Path.Combine(root, "libtorch.so")) ? root : Path.Combine(root, "lib");
        if (!File.Exists(Path.Combine(lib, "libtorch.so")))
            throw new LibTorchNotUsableException($"the LibTorch folder '{root}' holds no libtorch.so (looked in '{lib}')");
        string top = lib == root ? Path.GetDirectoryName(root)! : root;
        string? version = ReadVersion(top) ?? ReadVersion(root);
        if (version is null)
            throw new LibTorchNotUsableException($"the LibTorch folder '{root}' has no version.py or build-version, so its version cannot be checked (TorchSharp needs LibTorch {RequiredVersion}.x)");
        if (!version.StartsWith(RequiredVersion + ".", StringComparison.Ordinal))
            throw new LibTorchNotUsableException($"the LibTorch folder '{root}' holds LibTorch {version}, but TorchSharp 0.107 needs LibTorch {RequiredVersion}.x");
        return new LibTorchInstall(root, lib, version, File.Exists(Path.Combine(lib, "libtorch_cuda.so")));
    }

    private static string? ReadVersion(string folder)
    {
        string buildVersion = Path.Combine(folder, "build-version");
        if (File.Exists(buildVersion)) return File.ReadAllText(buildVersion).Trim();
        string versionPy = Path.Combine(folder, "version.py");
        if (!File.Exists(versionPy)) return null;
        var match = VersionLine().Match(File.ReadAllText(versionPy));
        return match.Success ? match.Groups[1].Value : null;
    }

    [GeneratedRegex(@"^__version__\s*=\s*['""]([^'""]+)['""]", RegexOptions.Multiline)]
    private static partial Regex VersionLine();
}

/// <summary>A configured LibTorch folder cannot be used; the message names what was found.</summary>
public sealed class LibTorchNotUsableException(string message) : Exception(message);
