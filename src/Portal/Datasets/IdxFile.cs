using System.Buffers.Binary;
using System.IO.Compression;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Datasets;

/// <summary>Reads the header of an IDX file (gzipped or raw) and, for images, single samples.</summary>
public sealed record IdxHeader(int DataType, int[] Dimensions)
{
    public int Count => Dimensions[0];
    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, b) => a * b);
    public int HeaderBytes => 4 + 4 * Dimensions.Length;
}

public static class IdxFile
{
    private const int UnsignedByte = 0x08;

    public static Stream OpenDecoded(string path)
    {
        var file = File.OpenRead(path);
        var b0 = file.ReadByte();
        var b1 = file.ReadByte();
        file.Position = 0;
        return b0 == 0x1f && b1 == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    public static IdxHeader ReadHeader(Stream s, ErrorMessage role)
    {
        Span<byte> magic = stackalloc byte[4];
        if (ReadFully(s, magic) < 4)
            throw Bad($"The {role} is too short to be an IDX file.");
        if (magic[0] != 0 || magic[1] != 0)
            throw Bad($"The {role} does not start with the IDX magic number (00 00 type dims).");
        var type = magic[2];
        var dims = magic[3];
        if (type != UnsignedByte)
            throw Bad($"The {role} has element type 0x{type:x2}; only unsigned bytes (0x08) are supported.");
        if (dims is < 1 or > 4)
            throw Bad($"The {role} declares {dims} dimensions.");
        var sizes = new int[dims];
        Span<byte> word = stackalloc byte[4];
        for (var i = 0; i < dims; i++)
        {
            if (ReadFully(s, word) < 4)
                throw Bad($"The {role} ends inside its header.");
            var size = BinaryPrimitives.ReadInt32BigEndian(word);
            if (size <= 0)
                throw Bad($"The {role} declares dimension {i} of size {size}.");
            sizes[i] = size;
        }
        return new IdxHeader(type, sizes);
    }

    /// <summary>Reads the header and checks that the body holds exactly what it declares.</summary>
    public static (IdxHeader Header, int[] LabelCounts) Validate(string path, ErrorMessage role, bool labels)
    {
        try
        {
            using var s = OpenDecoded(path);
            var header = ReadHeader(s, role);
            if (labels && header.Dimensions.Length != 1)
                throw Bad($"The {role} has {header.Dimensions.Length} dimensions; a label file has one.");
            if (!labels && (header.Dimensions.Length != 3 || header.Dimensions[1] != 28 || header.Dimensions[2] != 28))
                throw Bad($"The {role} has shape [{string.Join(", ", header.Dimensions)}]; images must be N x 28 x 28.");
            var counts = new int[256];
            var expected = (long)header.Count * header.ItemSize;
            var buffer = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = s.Read(buffer)) > 0)
            {
                if (labels)
                    for (var i = 0; i < read; i++) counts[buffer[i]]++;
                total += read;
                if (total > expected)
                    throw Bad($"The {role} holds more data than its header declares ({header.Count} items).");
            }
            if (total < expected)
                throw Bad($"The {role} is truncated: the header declares {header.Count} items but the body holds {total / header.ItemSize}.");
            return (header, counts);
        }
        catch (InvalidDataException ex)
        {
            throw Bad($"The {role} is not a valid gzip stream ({ex.Message}).");
        }
    }

    public static byte[] ReadImage(string path, int index)
    {
        using var s = OpenDecoded(path);
        var header = ReadHeader(s, ErrorMessage.Of($"image file"));
        if (index < 0 || index >= header.Count)
            throw PortalException.NotFound($"Sample {index}");
        var skip = (long)index * header.ItemSize;
        var buffer = new byte[Math.Min(1 << 16, Math.Max(1, skip))];
        while (skip > 0)
        {
            var read = s.Read(buffer, 0, (int)Math.Min(buffer.Length, skip));
            if (read == 0) throw PortalException.NotFound($"Sample {index}");
            skip -= read;
        }
        var image = new byte[header.ItemSize];
        if (ReadFully(s, image) < image.Length)
            throw PortalException.NotFound($"Sample {index}");
        return image;
    }

    public static byte[] ReadLabels(string path, int count)
    {
        using var s = OpenDecoded(path);
        var header = ReadHeader(s, ErrorMessage.Of($"label file"));
        var labels = new byte[Math.Min(count, header.Count)];
        ReadFully(s, labels);
        return labels;
    }

    private static int ReadFully(Stream s, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = s.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static PortalException Bad(FormattableString problem) =>
        new(PortalError.Unprocessable, problem, "file");
}
