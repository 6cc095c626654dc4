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

    /// <summary>
    /// Reads an entry whole and checks its CRC-32 against <paramref name="expected"/> or, without one, against
    /// the zip's own record: <see cref="ZipArchive"/> does not check it, so a damaged manifest could
    /// otherwise parse as other JSON. A length or CRC that differs is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static byte[] Read(ZipArchive zip, string name, EntryChecksum? expected = null, long maxLength = 4L << 30)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"{name} is missing");
        if (entry.Length > maxLength || (expected is not null && entry.Length != expected.Length))
            throw new InvalidDataException($"{name} is {entry.Length} bytes, but {expected?.Length.ToString() ?? $"at most {maxLength}"} were written");
        using var stream = entry.Open();
        using var buffer = new MemoryStream((int)Math.Min(entry.Length, int.MaxValue));
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        uint crc = Crc32.Compute(bytes), written = expected?.Crc32 ?? entry.Crc32;
        if (bytes.Length != entry.Length || crc != written)
            throw new InvalidDataException($"{name} is damaged: its checksum is {crc:x8}, {written:x8} was written");
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
