using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace ModelOps.Engine.Models;

/// <summary>How a module's weights are stored: TorchSharp's own format, or MOSD from the engine before TorchSharp.</summary>
public enum WeightsFormat { TorchSharp, Mosd }

/// <summary>A module's saved weights and their format; loading checks every name, shape and dtype.</summary>
public sealed record ModelWeights(WeightsFormat Format, byte[] Bytes)
{
    /// <summary>Copies the weights into <paramref name="module"/>; anything that does not fit is an <see cref="InvalidDataException"/>.</summary>
    public void LoadInto(nn.Module module)
    {
        if (Format == WeightsFormat.Mosd) LegacyStateDict.Load(Bytes, module);
        else ModuleState.Load(module, Bytes);
    }
}

/// <summary>Module weights in TorchSharp's format (<c>Module.save</c>), kept in memory for packages, checkpoints and the best epoch.</summary>
internal static class ModuleState
{
    public static byte[] Save(nn.Module module)
    {
        using var buffer = new MemoryStream();
        module.save(buffer);
        return buffer.ToArray();
    }

    public static ModelWeights Weights(nn.Module module) => new(WeightsFormat.TorchSharp, Save(module));

    /// <summary>
    /// Loads TorchSharp-format weights. Callers check a file's checksum first, so what reaches TorchSharp
    /// is what was written; a file for another architecture is still refused here, by name and shape.
    /// </summary>
    public static void Load(nn.Module module, byte[] bytes)
    {
        try
        {
            using var buffer = new MemoryStream(bytes, writable: false);
            module.load(buffer, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or ExternalException or KeyNotFoundException)
        {
            throw new InvalidDataException($"the weights do not fit this network: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// Copies every tensor of <paramref name="source"/> whose name and shape <paramref name="target"/> also has
    /// (fine-tuning: a new classifier head keeps its fresh weights); returns the names left as they were.
    /// </summary>
    public static IReadOnlyList<string> CopyMatching(nn.Module source, nn.Module target)
    {
        var from = source.state_dict();
        var skipped = new List<string>();
        using var noGrad = no_grad();
        foreach (var (name, destination) in target.state_dict())
        {
            if (from.TryGetValue(name, out var value) && value.shape.SequenceEqual(destination.shape) && value.dtype == destination.dtype)
                destination.copy_(value);
            else
                skipped.Add(name);
        }
        return skipped;
    }

    internal static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
