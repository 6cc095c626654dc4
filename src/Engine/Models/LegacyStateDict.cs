using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using static TorchSharp.torch;

namespace ModelOps.Engine.Models;

/// <summary>
/// Reads MOSD, the module-state format of the engine before TorchSharp (model packages and checkpoints
/// of format 2), into TorchSharp modules, so models registered before the upgrade keep serving. Nothing
/// writes MOSD any more.
/// </summary>
/// <remarks>
/// <para>Every integer is little-endian. Layout:</para>
/// <code>
/// header   magic   4 bytes  ASCII "MOSD"
///          version u32      1
///          count   u32      number of entries
/// entry    nameLen u32      byte length of the name (at most 65,536)
///  (count  name    bytes    UTF-8 dotted name, e.g. "0.weight", "bn.running_mean"
///  times)  dtype   i32      0 float32, 1 int64, 2 float64, 3 int32, 4 uint8, 5 bool
///          rank    u32      number of dimensions (at most 64)
///          shape   i64 x rank, each >= 0
///          dataLen u64      byte length of the data = product(shape) x element size (4, 8, 8, 4, 1, 1)
///          data    bytes    elements in row-major order, little-endian
/// trailer  crc     u32      CRC-32 (zlib's: polynomial 0xEDB88320 reflected, init and final XOR 0xFFFFFFFF)
///                           over every byte before it
/// </code>
/// <para>Entries are matched by name. Loading validates the whole file (structure, checksum, then every
/// name, dtype and shape against the module) before copying anything, and reports any problem as
/// <see cref="InvalidDataException"/>, leaving the module unchanged.</para>
/// </remarks>
internal static class LegacyStateDict
{
    public static ReadOnlySpan<byte> Magic => "MOSD"u8;
    public const uint Version = 1;
    private const int MaxNameBytes = 65_536;
    private const int MaxRank = 64;

    private enum LegacyType { Float32 = 0, Int64 = 1, Float64 = 2, Int32 = 3, Byte = 4, Bool = 5 }

    private readonly record struct Entry(string Name, LegacyType Dtype, long[] Shape, int DataOffset, int DataLength);

    /// <summary>True when the bytes start like a MOSD file.</summary>
    public static bool IsMosd(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Magic);

    public static void Load(byte[] bytes, nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(module);
        var entries = Parse(bytes);
        var byName = new Dictionary<string, Entry>(entries.Count, StringComparer.Ordinal);
        foreach (var entry in entries)
            if (!byName.TryAdd(entry.Name, entry)) throw new InvalidDataException($"entry '{entry.Name}' appears twice");
        var target = module.state_dict();
        foreach (var (name, tensor) in target)
        {
            if (!byName.TryGetValue(name, out var entry))
                throw new InvalidDataException($"the state has no entry '{name}', which the module expects");
            string? problem = Mismatch(name, entry, tensor);
            if (problem is not null) throw new InvalidDataException(problem);
        }
        foreach (var entry in entries)
            if (!target.ContainsKey(entry.Name))
                throw new InvalidDataException($"the state has an entry '{entry.Name}' that the module does not have");

        using var noGrad = no_grad();
        foreach (var entry in entries)
        {
            using var source = ToTensor(bytes.AsSpan(entry.DataOffset, entry.DataLength), entry.Dtype, entry.Shape);
            target[entry.Name].copy_(source);
        }
    }

    private static Tensor ToTensor(ReadOnlySpan<byte> data, LegacyType dtype, long[] shape) => dtype switch
    {
        LegacyType.Float32 => tensor(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape),
        LegacyType.Int64 => tensor(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
        LegacyType.Float64 => tensor(MemoryMarshal.Cast<byte, double>(data).ToArray(), shape),
        LegacyType.Int32 => tensor(MemoryMarshal.Cast<byte, int>(data).ToArray(), shape),
        LegacyType.Byte => tensor(data.ToArray(), shape),
        LegacyType.Bool => tensor(data.ToArray().Select(b => b != 0).ToArray(), shape),
        _ => throw new InvalidDataException($"dtype {dtype} cannot be read"),
    };

    private static ScalarType Torch(LegacyType dtype) => dtype switch
    {
        LegacyType.Float32 => ScalarType.Float32,
        LegacyType.Int64 => ScalarType.Int64,
        LegacyType.Float64 => ScalarType.Float64,
        LegacyType.Int32 => ScalarType.Int32,
        LegacyType.Byte => ScalarType.Byte,
        _ => ScalarType.Bool,
    };

    private static string? Mismatch(string name, Entry entry, Tensor destination)
    {
        var expected = destination.shape;
        if (!entry.Shape.AsSpan().SequenceEqual(expected))
            return $"entry '{name}' has shape {Format(entry.Shape)} but the module expects {Format(expected)}";
        if (Torch(entry.Dtype) != destination.dtype)
            return $"entry '{name}' has dtype {entry.Dtype} but the module expects {destination.dtype}";
        return null;
    }

    private static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private static List<Entry> Parse(byte[] bytes)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the MOSD reader assumes a little-endian host");
        var reader = new Reader(bytes);
        if (bytes.Length < 4 || !bytes.AsSpan(0, 4).SequenceEqual(Magic))
        {
            if (bytes.Length < 4 && Magic.StartsWith(bytes)) throw reader.Truncated("the magic number");
            throw new InvalidDataException("not a MOSD state file (the magic number is not \"MOSD\")");
        }
        reader.Skip(4);
        uint version = reader.UInt32("the version");
        if (version != Version) throw new InvalidDataException($"unsupported MOSD version {version} (this engine reads version {Version})");
        uint count = reader.UInt32("the entry count");
        var entries = new List<Entry>((int)Math.Min(count, 4096));
        for (uint i = 0; i < count; i++)
        {
            string where = $"entry {i}";
            uint nameLength = reader.UInt32($"the name length of {where}");
            if (nameLength > MaxNameBytes) throw new InvalidDataException($"{where}: name length {nameLength} exceeds {MaxNameBytes} bytes");
            string name;
            try
            {
                name = new UTF8Encoding(false, true).GetString(reader.Bytes((int)nameLength, $"the name of {where}"));
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidDataException($"{where}: the name is not valid UTF-8");
            }
            where = $"entry '{name}'";
            int code = reader.Int32($"the dtype of {where}");
            if (!Enum.IsDefined((LegacyType)code)) throw new InvalidDataException($"{where}: unknown dtype code {code}");
            var dtype = (LegacyType)code;
            uint rank = reader.UInt32($"the rank of {where}");
            if (rank > MaxRank) throw new InvalidDataException($"{where}: rank {rank} exceeds {MaxRank}");
            var shape = new long[rank];
            for (int d = 0; d < rank; d++)
            {
                shape[d] = reader.Int64($"the shape of {where}");
                if (shape[d] < 0) throw new InvalidDataException($"{where}: negative size {shape[d]} in its shape");
            }
            ulong dataLength = reader.UInt64($"the data length of {where}");
            long expected;
            try
            {
                expected = DataLength(dtype, shape);
            }
            catch (OverflowException)
            {
                throw new InvalidDataException($"{where}: shape {Format(shape)} is too large");
            }
            if (dataLength != (ulong)expected)
                throw new InvalidDataException($"{where}: data length {dataLength} does not match shape {Format(shape)} of {dtype} ({expected} bytes)");
            int offset = reader.Position;
            reader.Bytes(checked((int)Math.Min(expected, int.MaxValue)), $"the data of {where}");
            entries.Add(new Entry(name, dtype, shape, offset, (int)expected));
        }
        int end = reader.Position;
        uint stored = reader.UInt32("the checksum");
        if (reader.Position != bytes.Length)
            throw new InvalidDataException($"{bytes.Length - reader.Position} unexpected bytes after the checksum at byte {reader.Position}");
        uint actual = Crc32.Compute(bytes.AsSpan(0, end));
        if (stored != actual) throw new InvalidDataException($"checksum mismatch: the file says {stored:x8}, its contents give {actual:x8}");
        return entries;
    }

    private static long ElementSize(LegacyType dtype) => dtype switch
    {
        LegacyType.Float32 or LegacyType.Int32 => 4,
        LegacyType.Int64 or LegacyType.Float64 => 8,
        LegacyType.Byte or LegacyType.Bool => 1,
        _ => throw new NotSupportedException($"dtype {dtype} cannot be stored"),
    };

    private static long DataLength(LegacyType dtype, long[] shape)
    {
        long n = ElementSize(dtype);
        foreach (long s in shape) n = checked(n * s);
        return n;
    }

    // Bounds-checked cursor: every read names what it was reading when the bytes run out.
    private sealed class Reader(byte[] bytes)
    {
        internal int Position { get; private set; }

        internal InvalidDataException Truncated(string what) =>
            new($"truncated at byte {bytes.Length}: {what} at byte {Position} runs past the end of the {bytes.Length}-byte state");

        internal void Skip(int n) => Bytes(n, "the header");

        internal ReadOnlySpan<byte> Bytes(int n, string what)
        {
            if (n < 0 || n > bytes.Length - Position) throw Truncated(what);
            var span = bytes.AsSpan(Position, n);
            Position += n;
            return span;
        }

        internal uint UInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, what));
        internal int Int32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4, what));
        internal long Int64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8, what));
        internal ulong UInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, what));
    }
}
