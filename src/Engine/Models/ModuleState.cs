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
    /// is what was written; a file for another architecture is still refused here, naming the first
    /// tensor that does not fit, before anything is copied (TorchSharp's own check stops half-way through
    /// the copy with a message that names no tensor).
    /// </summary>
    public static void Load(nn.Module module, byte[] bytes)
    {
        try
        {
            string? misfit = Misfit(module, bytes);
            if (misfit is not null) throw new InvalidDataException($"the weights do not fit this network: {misfit}");
            using var buffer = new MemoryStream(bytes, writable: false);
            module.load(buffer, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or ExternalException or KeyNotFoundException)
        {
            throw new InvalidDataException($"the weights do not fit this network: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// Copies every tensor of <paramref name="source"/> whose name and shape <paramref name="target"/> also has,
    /// except those named in <paramref name="keep"/> (fine-tuning: a new classifier head keeps its fresh
    /// weights); returns the names left as they were.
    /// </summary>
    public static IReadOnlyList<string> CopyMatching(nn.Module source, nn.Module target, IReadOnlyCollection<string>? keep = null)
    {
        var from = source.state_dict();
        var skipped = new List<string>();
        using var noGrad = no_grad();
        foreach (var (name, destination) in target.state_dict())
        {
            if (keep?.Contains(name) != true && from.TryGetValue(name, out var value)
                && value.shape.SequenceEqual(destination.shape) && value.dtype == destination.dtype)
                destination.copy_(value);
            else
                skipped.Add(name);
        }
        return skipped;
    }

    /// <summary>
    /// Compares the saved tensors' names, dtypes and shapes with the module's. The layout is
    /// <c>Module.save</c>'s: a count, then per tensor its name (a BinaryWriter string), dtype, rank and sizes
    /// (LEB128 integers) and its data.
    /// </summary>
    private static string? Misfit(nn.Module module, byte[] bytes)
    {
        var expected = module.state_dict();
        var saved = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            long count = Leb128(reader);
            for (long i = 0; i < count; i++)
            {
                string name = reader.ReadString();
                var dtype = (ScalarType)Leb128(reader);
                long rank = Leb128(reader);
                if (rank > 64) return $"entry '{name}' has an impossible rank of {rank}";
                var shape = new long[rank];
                for (int d = 0; d < rank; d++) shape[d] = Leb128(reader);
                if (!expected.TryGetValue(name, out var target)) return $"the state has an entry '{name}' that the module does not have";
                if (dtype != target.dtype) return $"entry '{name}' has dtype {dtype} but the module expects {target.dtype}";
                if (!shape.SequenceEqual(target.shape)) return $"entry '{name}' has shape {Format(shape)} but the module expects {Format(target.shape)}";
                saved.Add(name);
                reader.BaseStream.Seek(target.NumberOfElements * target.ElementSize, SeekOrigin.Current);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return $"the weights are malformed ({e.Message})";
        }
        string? missing = expected.Keys.FirstOrDefault(name => !saved.Contains(name));
        return missing is null ? null : $"the state has no entry '{missing}', which the module expects";
    }

    private static long Leb128(BinaryReader reader)
    {
        long value = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 63) throw new InvalidDataException("a malformed integer in the weights");
            byte b = reader.ReadByte();
            value |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
    }

    private static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";

    internal static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
