using System.Buffers.Binary;
using System.IO.Compression;

namespace ModelOps.Engine.Data;

/// <summary>Reads IDX files (the MNIST format), raw or gzipped (detected by the gzip magic bytes).</summary>
public static class IdxFile
{
    /// <summary>Pixels in [count, channels, rows, columns] order.</summary>
    public sealed record Images(byte[] Pixels, int Count, int Rows, int Columns)
    {
        public int Channels { get; init; } = 1;
        public int PixelsPerImage => Channels * Rows * Columns;
    }

    /// <summary>
    /// Grey images are 3-D IDX files [count, rows, columns]; colour images are 4-D [count, channels,
    /// rows, columns] with 1 to 4 channels (a 32x32 RGB set is [n, 3, 32, 32]).
    /// </summary>
    public static Images ReadImages(string path)
    {
        var (dims, data) = Read(path, expectedType: 0x08, expectedDims: [3, 4]);
        if (dims.Length == 3) return new Images(data, dims[0], dims[1], dims[2]);
        if (dims[1] is < 1 or > 4)
            throw new DatasetFormatException($"{Path.GetFileName(path)}: a 4-D IDX image file is [count, channels, rows, columns] with 1 to 4 channels; this one has {dims[1]}");
        return new Images(data, dims[0], dims[2], dims[3]) { Channels = dims[1] };
    }

    public static byte[] ReadLabels(string path) => Read(path, expectedType: 0x08, expectedDims: [1]).Data;

    private static (int[] Dims, byte[] Data) Read(string path, int expectedType, int[] expectedDims)
    {
        if (!File.Exists(path)) throw new DatasetFormatException($"IDX file not found: {path}");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            try
            {
                bytes = Gunzip(bytes);
            }
            catch (InvalidDataException e)
            {
                throw new DatasetFormatException($"{Path.GetFileName(path)}: corrupt gzip data ({e.Message})", e);
            }
        }
        string name = Path.GetFileName(path);
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new DatasetFormatException($"{name}: not an IDX file (bad magic number)");
        if (bytes[2] != expectedType)
            throw new DatasetFormatException($"{name}: IDX element type 0x{bytes[2]:x2} is not supported (expected unsigned bytes)");
        if (!expectedDims.Contains(bytes[3]))
            throw new DatasetFormatException($"{name}: expected an IDX file with {string.Join(" or ", expectedDims)} dimension(s), found {bytes[3]}");
        int rank = bytes[3];
        int headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength) throw new DatasetFormatException($"{name}: truncated IDX header");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (dims[i] < 0) throw new DatasetFormatException($"{name}: dimension {i} is negative ({dims[i]})");
            count *= dims[i];
        }
        if (bytes.Length - headerLength != count)
            throw new DatasetFormatException($"{name}: header announces {count} values but the file holds {bytes.Length - headerLength}");
        return (dims, bytes.AsSpan(headerLength).ToArray());
    }

    // The gzip trailer states the uncompressed size (mod 2^32): decompressing straight into an array of that
    // size avoids a growing buffer and its copies (Fashion-MNIST's training images are 47 MB).
    private static byte[] Gunzip(byte[] compressed)
    {
        int stated = compressed.Length >= 18 ? BinaryPrimitives.ReadInt32LittleEndian(compressed.AsSpan(compressed.Length - 4)) : 0;
        if (stated > 0)
        {
            var result = new byte[stated];
            using var gz = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            int read = 0, n;
            while (read < stated && (n = gz.Read(result, read, stated - read)) > 0) read += n;
            if (read == stated && gz.ReadByte() == -1) return result;
        }
        // A multi-member or 4 GiB+ file: its trailer does not give the whole size.
        using var again = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        again.CopyTo(raw);
        return raw.ToArray();
    }
}
