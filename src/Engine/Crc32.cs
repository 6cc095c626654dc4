namespace ModelOps.Engine;

/// <summary>CRC-32 (IEEE 802.3, as in zip and PNG), table-driven; the BCL has no CRC-32 without a package. The MOSD state format and the optimizer state envelope both use it.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>Continues a running CRC (start with 0) over <paramref name="data"/>.</summary>
    internal static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    internal static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);
}
