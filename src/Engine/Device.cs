namespace ModelOps.Engine;

public enum DeviceType
{
    Cpu = 0,
    Cuda = 1,
}

/// <summary>Where tensors and modules live.</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    public static Device Cpu { get; } = new(DeviceType.Cpu);

    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>Parses "cpu", "cuda", "cuda:1" or "auto" (CUDA when available, else CPU).</summary>
    public static Device Parse(string name)
    {
        string n = name.Trim().ToLowerInvariant();
        if (n == "auto") return Torch.CudaIsAvailable() ? Cuda() : Cpu;
        if (n == "cpu") return Cpu;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!Torch.CudaIsAvailable())
                throw new ArgumentException("device 'cuda' was requested but CUDA is not available to this engine build", nameof(name));
            return n == "cuda" ? Cuda() : Cuda(int.Parse(n[5..], System.Globalization.CultureInfo.InvariantCulture));
        }
        throw new ArgumentException($"unknown device '{name}' (expected auto, cpu or cuda)", nameof(name));
    }

    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
