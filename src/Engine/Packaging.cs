using System.IO.Compression;

namespace ModelOps.Engine;

/// <summary>The length and CRC-32 of a zip entry, recorded in the file's metadata and checked before the entry is parsed.</summary>
public sealed record EntryChecksum(string Entry, long Length, uint Crc32);

/// <summary>Zip entries for packages and checkpoints: written and read with their checksum, so damaged bytes never reach a parser.</summary>
internal static class Packaging
{
    public static EntryChecksum Add(ZipArchive zip, string name, byte[] bytes)
    {
        using (var stream = zip.CreateEntry(name, CompressionLevel.Fastest).Open()) stream.Write(bytes);
        return new EntryChecksum(name, bytes.Length, Crc32.Compute(bytes));
    }

    /// <summary>Reads an entry whole; with a checksum, a length or CRC that differs is an <see cref="InvalidDataException"/>.</summary>
    public static byte[] Read(ZipArchive zip, string name, EntryChecksum? expected = null, long maxLength = 4L << 30)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"{name} is missing");
        if (entry.Length > maxLength || (expected is not null && entry.Length != expected.Length))
            throw new InvalidDataException($"{name} is {entry.Length} bytes, but {expected?.Length.ToString() ?? $"at most {maxLength}"} were written");
        using var stream = entry.Open();
        using var buffer = new MemoryStream((int)Math.Min(entry.Length, int.MaxValue));
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        if (expected is not null && Crc32.Compute(bytes) != expected.Crc32)
            throw new InvalidDataException($"{name} is damaged: its checksum is {Crc32.Compute(bytes):x8}, {expected.Crc32:x8} was written");
        return bytes;
    }

    /// <summary>Writes to a temporary name and renames, so an interrupted write never leaves a half-written file.</summary>
    public static void WriteAtomically(string path, Action<ZipArchive> fill)
    {
        string temp = path + ".tmp";
        File.Delete(temp); // left over by an interrupted write
        using (var zip = ZipFile.Open(temp, ZipArchiveMode.Create)) fill(zip);
        File.Move(temp, path, overwrite: true);
    }
}
