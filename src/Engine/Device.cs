using System.Globalization;
using TorchSharp;

namespace ModelOps.Engine;

/// <summary>Turns a run's device setting into a TorchSharp device.</summary>
public static class Devices
{
    /// <summary>
    /// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:n". Asking for CUDA where none is
    /// visible is an <see cref="ArgumentException"/> that says so; only "auto" falls back to the CPU.
    /// </summary>
    public static torch.Device Resolve(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        NativeBackend.EnsureLoaded();
        string n = name.Trim().ToLowerInvariant();
        if (n == "auto") return torch.cuda.is_available() ? new torch.Device(DeviceType.CUDA, 0) : torch.CPU;
        if (n == "cpu") return torch.CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException($"device '{name}' was requested but CUDA is not available: {NativeBackend.Describe()}", nameof(name));
            if (n == "cuda") return new torch.Device(DeviceType.CUDA, 0);
            if (!int.TryParse(n[5..], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                throw new ArgumentException($"bad CUDA device index in '{name}'", nameof(name));
            int count = torch.cuda.device_count();
            if (index >= count)
                throw new ArgumentException($"device '{name}' was requested but only {count} CUDA device(s) are visible", nameof(name));
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"unknown device '{name}' (expected auto, cpu or cuda)", nameof(name));
    }

    /// <summary>How many CUDA devices this process's LibTorch sees (0 on the package's CPU LibTorch).</summary>
    public static int CudaCount()
    {
        NativeBackend.EnsureLoaded();
        return torch.cuda.is_available() ? torch.cuda.device_count() : 0;
    }

    /// <summary>"cpu" or "cuda:n", the form runs record.</summary>
    public static string Name(torch.Device device) => device.type == DeviceType.CPU ? "cpu" : $"cuda:{Math.Max(0, device.index)}";
}
