using System.Buffers.Binary;
using System.Text;
using ModelOps.Engine.Interop;

namespace ModelOps.Engine.NN;

/// <summary>
/// The MOSD binary format of a module's state dict, written by <see cref="Module.SaveState"/> and read by
/// <see cref="Module.LoadState"/>.
/// </summary>
/// <remarks>
/// <para>Every integer is little-endian. Layout:</para>
/// <code>
/// header   magic   4 bytes  ASCII "MOSD"
///          version u32      1
///          count   u32      number of entries
/// entry    nameLen u32      byte length of the name (at most 65,536)
///  (count  name    bytes    UTF-8 dotted name, e.g. "0.weight", "bn.running_mean"
///  times)  dtype   i32      ScalarType code: 0 float32, 1 int64, 2 float64, 3 int32, 4 uint8, 5 bool
///          rank    u32      number of dimensions (at most 64)
///          shape   i64 x rank, each >= 0
///          dataLen u64      byte length of the data = product(shape) x element size (4, 8, 8, 4, 1, 1)
///          data    bytes    elements in row-major order, little-endian
/// trailer  crc     u32      CRC-32 (zlib's: polynomial 0xEDB88320 reflected, init and final XOR 0xFFFFFFFF)
///                           over every byte before it
/// </code>
/// <para>Entries appear in <see cref="Module.StateDict"/> order, but a reader matches them by name. Loading
/// validates the whole file (structure, checksum, then every name, dtype and shape against the module) before
/// copying anything, and reports any problem as <see cref="InvalidDataException"/>.</para>
/// </remarks>
public static class StateDictFormat
{
    /// <summary>The four bytes every MOSD file starts with.</summary>
    public static ReadOnlySpan<byte> Magic => "MOSD"u8;

    /// <summary>The version this engine writes and reads.</summary>
    public const uint Version = 1;

    private const int MaxNameBytes = 65_536;
    private const int MaxRank = 64;

    private readonly record struct Entry(string Name, ScalarType Dtype, long[] Shape, int DataOffset, int DataLength);

    /// <summary>Serializes tensors by name (the live tensors are read, not changed).</summary>
    public static byte[] Write(IEnumerable<KeyValuePair<string, Tensor>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the MOSD writer assumes a little-endian host");
        var items = state.Select(kv => (Name: Encoding.UTF8.GetBytes(kv.Key), kv.Value.Dtype, kv.Value.Shape, Tensor: kv.Value)).ToArray();
        long total = 12 + 4;
        foreach (var item in items)
        {
            if (item.Name.Length > MaxNameBytes) throw new ArgumentException("a state dict name is longer than 65,536 bytes");
            total += 4 + item.Name.Length + 4 + 4 + 8L * item.Shape.Length + 8 + DataLength(item.Dtype, item.Shape);
        }
        if (total > Array.MaxLength) throw new NotSupportedException($"the state needs {total} bytes, more than one array can hold");

        var bytes = new byte[total];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)items.Length);
        int pos = 12;
        foreach (var (name, dtype, shape, tensor) in items)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[pos..], (uint)name.Length);
            pos += 4;
            name.CopyTo(span[pos..]);
            pos += name.Length;
            BinaryPrimitives.WriteInt32LittleEndian(span[pos..], (int)dtype);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(pos + 4)..], (uint)shape.Length);
            pos += 8;
            foreach (long s in shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(span[pos..], s);
                pos += 8;
            }
            long length = DataLength(dtype, shape);
            BinaryPrimitives.WriteUInt64LittleEndian(span[pos..], (ulong)length);
            pos += 8;
            ReadData(tensor, bytes, pos, (int)length);
            pos += (int)length;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[pos..], Crc32.Compute(span[..pos]));
        return bytes;
    }

    /// <summary>
    /// Validates <paramref name="bytes"/> against <paramref name="target"/> (names, dtypes and shapes must match
    /// exactly) and then copies every entry into the target's tensors in place.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are damaged or describe a different architecture; nothing was changed.</exception>
    public static unsafe void Load(byte[] bytes, IReadOnlyDictionary<string, Tensor> target)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(target);
        var entries = Parse(bytes);
        var byName = new Dictionary<string, Entry>(entries.Count, StringComparer.Ordinal);
        foreach (var entry in entries)
            if (!byName.TryAdd(entry.Name, entry)) throw new InvalidDataException($"entry '{entry.Name}' appears twice");
        foreach (var (name, tensor) in target)
        {
            if (!byName.TryGetValue(name, out var entry))
                throw new InvalidDataException($"the state has no entry '{name}', which the module expects");
            string? problem = Mismatch(name, entry.Dtype, entry.Shape, tensor);
            if (problem is not null) throw new InvalidDataException(problem);
        }
        foreach (var entry in entries)
            if (!target.ContainsKey(entry.Name))
                throw new InvalidDataException($"the state has an entry '{entry.Name}' that the module does not have");

        fixed (byte* p = bytes)
        {
            foreach (var entry in entries)
            {
                long count = entry.Shape.Aggregate(1L, (a, b) => a * b);
                NativeError.Check(NativeMethods.mo_nn_copy_into(target[entry.Name].Handle, p + entry.DataOffset, (int)entry.Dtype, count));
            }
        }
    }

    /// <summary>Describes why an entry cannot be loaded into <paramref name="destination"/>, or null when it can.</summary>
    internal static string? Mismatch(string name, ScalarType dtype, long[] shape, Tensor destination)
    {
        var expected = destination.Shape;
        if (!shape.AsSpan().SequenceEqual(expected))
            return $"entry '{name}' has shape {Format(shape)} but the module expects {Format(expected)}";
        var expectedType = destination.Dtype;
        if (dtype != expectedType)
            return $"entry '{name}' has dtype {dtype} but the module expects {expectedType}";
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
            if (!Enum.IsDefined((ScalarType)code)) throw new InvalidDataException($"{where}: unknown dtype code {code}");
            var dtype = (ScalarType)code;
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

    private static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Int64 or ScalarType.Float64 => 8,
        ScalarType.Byte or ScalarType.Bool => 1,
        _ => throw new NotSupportedException($"dtype {dtype} cannot be stored"),
    };

    private static long DataLength(ScalarType dtype, long[] shape)
    {
        long n = ElementSize(dtype);
        foreach (long s in shape) n = checked(n * s);
        return n;
    }

    private static unsafe void ReadData(Tensor tensor, byte[] bytes, int offset, int length)
    {
        fixed (byte* p = bytes) NativeError.Check(NativeMethods.mo_nn_read_bytes(tensor.Handle, p + offset, length));
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
