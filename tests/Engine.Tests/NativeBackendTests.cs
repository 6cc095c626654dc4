using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelOps.Engine.Tests;

/// <summary>
/// Which LibTorch the engine runs on, and the devices it offers. The LibTorch folders here are fakes of
/// empty files: <see cref="NativeBackend.Inspect"/> only reads them, nothing loads them.
/// </summary>
public class NativeBackendTests
{
    private static string Touch(string path, string content = "")
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Inspect_MissingFolder_SaysItDoesNotExist()
    {
        using var dir = new TempDirectory();
        string missing = Path.Combine(dir.Path, "libtorch");
        var ex = Assert.Throws<LibTorchNotUsableException>(() => NativeBackend.Inspect(missing));
        Assert.Equal($"the LibTorch folder '{missing}' does not exist", ex.Message);
    }

    [Fact]
    public void Inspect_FolderWithoutLibtorchSo_SaysWhereItLooked()
    {
        using var dir = new TempDirectory();
        Touch(Path.Combine(dir.Path, "lib", "libc10.so"));
        var ex = Assert.Throws<LibTorchNotUsableException>(() => NativeBackend.Inspect(dir.Path));
        Assert.Equal($"the LibTorch folder '{dir.Path}' holds no libtorch.so (looked in '{Path.Combine(dir.Path, "lib")}')", ex.Message);
    }

    [Fact]
    public void Inspect_PyTorchFolderOfAnotherVersion_NamesBothVersions()
    {
        using var dir = new TempDirectory();
        Touch(Path.Combine(dir.Path, "lib", "libtorch.so"));
        Touch(Path.Combine(dir.Path, "version.py"), "__version__ = '2.5.1'\ndebug = False\ncuda = '12.4'\n");
        var ex = Assert.Throws<LibTorchNotUsableException>(() => NativeBackend.Inspect(dir.Path));
        Assert.Equal($"the LibTorch folder '{dir.Path}' holds LibTorch 2.5.1, but TorchSharp 0.107 needs LibTorch 2.10.x", ex.Message);
    }

    [Fact]
    public void Inspect_FolderWithoutVersionFile_SaysTheVersionCannotBeChecked()
    {
        using var dir = new TempDirectory();
        Touch(Path.Combine(dir.Path, "lib", "libtorch.so"));
        var ex = Assert.Throws<LibTorchNotUsableException>(() => NativeBackend.Inspect(dir.Path));
        Assert.Contains("has no version.py or build-version, so its version cannot be checked (TorchSharp needs LibTorch 2.10.x)", ex.Message);
    }

    [Fact]
    public void Inspect_LibTorchDistributionOfTheRightVersion_GivesTheInstall()
    {
        using var dir = new TempDirectory();
        Touch(Path.Combine(dir.Path, "lib", "libtorch.so"));
        Touch(Path.Combine(dir.Path, "build-version"), "2.10.0+cpu\n");

        var install = NativeBackend.Inspect(dir.Path);

        Assert.Equal(new NativeBackend.LibTorchInstall(dir.Path, Path.Combine(dir.Path, "lib"), "2.10.0+cpu", HasCuda: false), install);
    }

    [Fact]
    public void Inspect_CudaBuildOfPyTorchGivenByItsLibFolder_IsFoundWithItsVersionAndCuda()
    {
        using var dir = new TempDirectory();
        string torchFolder = Path.Combine(dir.Path, "site-packages", "torch");
        Touch(Path.Combine(torchFolder, "lib", "libtorch.so"));
        Touch(Path.Combine(torchFolder, "lib", "libtorch_cuda.so"));
        Touch(Path.Combine(torchFolder, "version.py"), "from typing import Optional\n__version__ = '2.10.0+cu128'\n");

        var fromTorch = NativeBackend.Inspect(torchFolder);
        var fromLib = NativeBackend.Inspect(Path.Combine(torchFolder, "lib"));

        Assert.Equal("2.10.0+cu128", fromTorch.Version);
        Assert.True(fromTorch.HasCuda);
        Assert.Equal(Path.Combine(torchFolder, "lib"), fromTorch.LibraryDirectory);
        Assert.Equal(fromTorch.LibraryDirectory, fromLib.LibraryDirectory);
        Assert.Equal("2.10.0+cu128", fromLib.Version);
    }

    private const string Packaged = "the CPU LibTorch 2.10 of the libtorch-cpu-linux-x64 package";

    [Fact]
    public void Describe_SaysWhichLibTorchRuns()
    {
        Assert.StartsWith("2.10.", torch.__version__);
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(NativeBackend.DirectoryVariable)))
        {
            Assert.Equal(Packaged, NativeBackend.Describe());
            Assert.Null(NativeBackend.LoadError);
        }
        else if (NativeBackend.LoadError is null)
        {
            Assert.StartsWith("LibTorch 2.10.", NativeBackend.Describe()); // a machine that configures its own, e.g. a CUDA build
        }
        else
        {
            Assert.Equal($"{NativeBackend.LoadError}; running on {Packaged}", NativeBackend.Describe());
        }
    }

    [Fact]
    public void Configure_AfterTheFirstTorchCall_IsRefusedAndChangesNothing()
    {
        NativeBackend.EnsureLoaded();
        string before = NativeBackend.Describe();
        var ex = Assert.Throws<InvalidOperationException>(() => NativeBackend.Configure("/opt/libtorch"));
        Assert.Equal("the LibTorch folder must be configured before the first torch call", ex.Message);
        Assert.Equal(before, NativeBackend.Describe());
    }

    [Fact]
    public void Resolve_AutoAndCpu_GiveTheCpuWhereNoGpuIsVisible()
    {
        Assert.Equal(DeviceType.CPU, Devices.Resolve(" CPU ").type);
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, Devices.Resolve("auto").type);
        Assert.Equal("cpu", Devices.Name(Devices.Resolve("cpu")));
        Assert.Equal("unknown device 'tpu' (expected auto, cpu or cuda) (Parameter 'name')", Assert.Throws<ArgumentException>(() => Devices.Resolve("tpu")).Message);
    }

    [Fact]
    public void Resolve_Cuda_WithoutAGpu_SaysCudaIsNotAvailableAndWhichLibTorchRuns()
    {
        if (torch.cuda.is_available())
        {
            Assert.Equal("cuda:0", Devices.Name(Devices.Resolve("cuda")));
            Assert.Throws<ArgumentException>(() => Devices.Resolve($"cuda:{torch.cuda.device_count()}"));
            return;
        }
        foreach (string name in new[] { "cuda", "cuda:1" })
        {
            var ex = Assert.Throws<ArgumentException>(() => Devices.Resolve(name));
            Assert.StartsWith($"device '{name}' was requested but CUDA is not available: {NativeBackend.Describe()}", ex.Message);
        }
    }

    [Fact]
    public void EngineException_FromLibTorchShapeError_IsAShapeMismatchWithLibTorchsFirstLineOnly()
    {
        using var scope = NewDisposeScope();
        // mm, not matmul: TorchSharp 0.107's THSTensor_matmul lets libtorch's C++ exception escape and the process ends.
        var native = Assert.ThrowsAny<ExternalException>(() => zeros(2, 3).mm(zeros(4, 5)));
        Assert.Contains("\n", native.Message); // TorchSharp passes on the whole C++ message and backtrace

        var ex = EngineException.From(native);

        Assert.IsType<ShapeMismatchException>(ex);
        Assert.DoesNotContain("\n", ex.Message);
        Assert.Contains("2x3", ex.Message);
        Assert.Contains("4x5", ex.Message);
        Assert.Same(native, ex.InnerException);
    }

    [Fact]
    public void EngineException_FromOtherLibTorchErrors_KeepsTheirFirstLine()
    {
        using var scope = NewDisposeScope();
        var native = Assert.ThrowsAny<ExternalException>(() => zeros(3).select(0, 7));
        var ex = EngineException.From(native);
        Assert.Equal(typeof(EngineException), ex.GetType());
        Assert.Contains("out of range", ex.Message);
    }
}
