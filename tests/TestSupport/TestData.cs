using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace ModelOps.TestSupport;

/// <summary>Deterministic datasets generated for tests.</summary>
public static class TestData
{
    /// <summary>Two numeric features and a categorical one; the class follows from x + y with a little noise-free margin.</summary>
    public static string SeparableCsv(int rows, int seed = 7)
    {
        var random = new Random(seed);
        var text = new StringBuilder("x,y,colour,label\n");
        string[] colours = ["red", "green", "blue"];
        for (var i = 0; i < rows; i++)
        {
            double x, y;
            do
            {
                x = random.NextDouble() * 4 - 2;
                y = random.NextDouble() * 4 - 2;
            } while (Math.Abs(x + y) < 0.2);
            var label = x + y > 0 ? "high" : "low";
            text.Append(string.Create(CultureInfo.InvariantCulture, $"{x:0.0000},{y:0.0000},{colours[random.Next(3)]},{label}\n"));
        }
        return text.ToString();
    }

    /// <summary>A gzipped IDX image file of <paramref name="count"/> 28x28 images (class k: a bright band at row 2k).</summary>
    public static byte[] IdxImages(int count, int classes = 3, bool gzip = true, int? declaredCount = null)
    {
        using var raw = new MemoryStream();
        WriteInt(raw, 0x00000803);
        WriteInt(raw, declaredCount ?? count);
        WriteInt(raw, 28);
        WriteInt(raw, 28);
        for (var i = 0; i < count; i++)
        {
            var image = new byte[28 * 28];
            var row = 2 * (i % classes) + 4;
            for (var c = 0; c < 28; c++) image[row * 28 + c] = 255;
            raw.Write(image);
        }
        return gzip ? Gzip(raw.ToArray()) : raw.ToArray();
    }

    public static byte[] IdxLabels(int count, int classes = 3, bool gzip = true)
    {
        using var raw = new MemoryStream();
        WriteInt(raw, 0x00000801);
        WriteInt(raw, count);
        for (var i = 0; i < count; i++) raw.WriteByte((byte)(i % classes));
        return gzip ? Gzip(raw.ToArray()) : raw.ToArray();
    }

    private static void WriteInt(Stream s, int value)
    {
        s.WriteByte((byte)(value >> 24));
        s.WriteByte((byte)(value >> 16));
        s.WriteByte((byte)(value >> 8));
        s.WriteByte((byte)value);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return output.ToArray();
    }
}
