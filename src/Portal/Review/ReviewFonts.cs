using PdfSharp.Fonts;

namespace ModelOps.Portal.Review;

/// <summary>
/// PDFsharp 6 finds no fonts by itself on Linux; this resolver embeds DejaVu Sans from the machine's fonts
/// (Debian's fonts-dejavu-core, which scripts/setup.sh installs). Without it the export fails with a sentence
/// that names the package, never with an empty PDF.
/// </summary>
public sealed class ReviewFonts : IFontResolver
{
    public const string Family = "DejaVu Sans";
    private static readonly string[] Folders = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu"];
    private static readonly object Gate = new();

    /// <summary>Installs the resolver once per process (PDFsharp keeps it in a global).</summary>
    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            if (GlobalFontSettings.FontResolver is ReviewFonts) return;
            _ = FileOf(false);
            GlobalFontSettings.FontResolver = new ReviewFonts();
        }
    }

    public FontResolverInfo? ResolveTypeface(string familyName, bool isBold, bool isItalic) =>
        new(isBold ? "DejaVuSans-Bold" : "DejaVuSans");

    public byte[]? GetFont(string faceName) => File.ReadAllBytes(FileOf(faceName.EndsWith("-Bold", StringComparison.Ordinal)));

    private static string FileOf(bool bold)
    {
        var file = bold ? "DejaVuSans-Bold.ttf" : "DejaVuSans.ttf";
        foreach (var folder in Folders)
            if (Path.Combine(folder, file) is var path && File.Exists(path)) return path;
        throw new Infrastructure.PortalException(Infrastructure.PortalError.Conflict,
            $"The PDF export needs the DejaVu fonts ({file}), which are not installed; install the Debian package fonts-dejavu-core (scripts/setup.sh does).");
    }
}
