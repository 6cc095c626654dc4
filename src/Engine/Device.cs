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
        if (n == "auto") return Torch.Cuda.IsAvailable ? Cuda() : Cpu;
        if (n == "cpu") return Cpu;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!Torch.Cuda.IsAvailable)
                throw new ArgumentException("device 'cuda' was requested but CUDA is not available to this engine build", nameof(name));
            if (n == "cuda") return Cuda();
            if (!int.TryParse(n[5..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
                throw new ArgumentException($"bad CUDA device index in '{name}'", nameof(name));
            int count = Torch.Cuda.DeviceCount;
            if (index >= count)
                throw new ArgumentException($"device '{name}' was requested but only {count} CUDA device(s) are visible", nameof(name));
            return Cuda(index);
        }
        throw new ArgumentException($"unknown device '{name}' (expected auto, cpu or cuda)", nameof(name));
    }

    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
