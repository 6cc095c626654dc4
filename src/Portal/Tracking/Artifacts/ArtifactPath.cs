using System.Globalization;
using System.Text;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Tracking.Artifacts;

/// <summary>
/// The one gate between a client's artifact path and the file system. A path that passes is a
/// relative path of plain segments joined by '/', in Unicode NFC, that cannot name anything above
/// the run's artifacts folder however it is later decoded, normalised or shown. Anything doubtful
/// is refused rather than repaired, so a client never writes somewhere other than it asked.
/// </summary>
public static class ArtifactPath
{
    public const int MaxLength = 1024;
    public const int MaxSegmentBytes = 255;

    /// <summary>The top-level folder the store keeps its own files in (upload staging).</summary>
    public const string ReservedFolder = ".modelops";

    private const string Field = "path";

    /// <summary>
    /// Characters that look like '/', '\', '.' or ':', or that compatibility normalisation (NFKC) turns
    /// into them ('／', '．', '․', '⒈', '℅' ...): every such character in Unicode 14, plus the slashes
    /// that have no decomposition at all (division slash, fraction slash, big solidus ...).
    /// </summary>
    private static readonly (int First, int Last)[] Lookalikes =
    [
        (0x2024, 0x2026), (0x2044, 0x2044), (0x2100, 0x2101), (0x2105, 0x2106), (0x2215, 0x2216), (0x2488, 0x249B),
        (0x27CB, 0x27CB), (0x27CD, 0x27CD), (0x29F5, 0x29F5), (0x29F8, 0x29F9), (0x2A74, 0x2A74), (0x2E4A, 0x2E4A),
        (0x33C2, 0x33C2), (0x33C6, 0x33C7), (0x33D8, 0x33D8), (0xFE13, 0xFE13), (0xFE19, 0xFE19), (0xFE30, 0xFE30),
        (0xFE52, 0xFE52), (0xFE55, 0xFE55), (0xFE68, 0xFE68), (0xFF0E, 0xFF0F), (0xFF1A, 0xFF1A), (0xFF3C, 0xFF3C),
        (0x1F100, 0x1F100),
    ];

    /// <summary>
    /// Characters that NFC replaces even standing alone (Unicode 14, marks left out: see
    /// <see cref="NormalizesUnicode"/>), and the conjoining Hangul jamo that NFC composes into syllables.
    /// </summary>
    private static readonly (int First, int Last)[] ChangedByNfc =
    [
        (0x0374, 0x0374), (0x037E, 0x037E), (0x0387, 0x0387), (0x0958, 0x095F), (0x09DC, 0x09DD), (0x09DF, 0x09DF),
        (0x0A33, 0x0A33), (0x0A36, 0x0A36), (0x0A59, 0x0A5B), (0x0A5E, 0x0A5E), (0x0B5C, 0x0B5D), (0x0F43, 0x0F43),
        (0x0F4D, 0x0F4D), (0x0F52, 0x0F52), (0x0F57, 0x0F57), (0x0F5C, 0x0F5C), (0x0F69, 0x0F69), (0x1100, 0x11FF),
        (0x1F71, 0x1F71), (0x1F73, 0x1F73), (0x1F75, 0x1F75), (0x1F77, 0x1F77), (0x1F79, 0x1F79), (0x1F7B, 0x1F7B),
        (0x1F7D, 0x1F7D), (0x1FBB, 0x1FBB), (0x1FBE, 0x1FBE), (0x1FC9, 0x1FC9), (0x1FCB, 0x1FCB), (0x1FD3, 0x1FD3),
        (0x1FDB, 0x1FDB), (0x1FE3, 0x1FE3), (0x1FEB, 0x1FEB), (0x1FEE, 0x1FEF), (0x1FF9, 0x1FF9), (0x1FFB, 0x1FFB),
        (0x1FFD, 0x1FFD), (0x2000, 0x2001), (0x2126, 0x2126), (0x212A, 0x212B), (0x2329, 0x232A), (0x2ADC, 0x2ADC),
        (0xA960, 0xA97F), (0xD7B0, 0xD7FF), (0xF900, 0xFAFF), (0xFB1D, 0xFB1D), (0xFB1F, 0xFB1F), (0xFB2A, 0xFB36),
        (0xFB38, 0xFB3C), (0xFB3E, 0xFB3E), (0xFB40, 0xFB41), (0xFB43, 0xFB44), (0xFB46, 0xFB4E), (0x1D15E, 0x1D164),
        (0x1D1BB, 0x1D1C0), (0x2F800, 0x2FA1F),
    ];

    /// <summary>
    /// Whether this process can normalise Unicode. With InvariantGlobalization (as the portal is built
    /// today) .NET has no ICU and string.Normalize returns its input unchanged; then a path can only be
    /// kept canonical by refusing every character NFC could change: combining marks, conjoining jamo and
    /// the characters in <see cref="ChangedByNfc"/>. Such a path is already NFC, so nothing a client sends
    /// is stored under a second spelling of the same name.
    /// </summary>
    public static bool NormalizesUnicode { get; } = "e\u0301".Normalize(NormalizationForm.FormC) == "\u00E9";

    /// <summary>
    /// The canonical form of <paramref name="raw"/> (as the URL router delivers it: percent-decoded
    /// once), or a <see cref="PortalException"/> (400) naming what is wrong with it.
    /// </summary>
    public static string Normalize(string? raw)
    {
        if (string.IsNullOrEmpty(raw))
            throw Refuse($"The artifact path is empty.");
        if (raw.Length > MaxLength)
            throw Refuse($"The artifact path is {raw.Length} characters long; the limit is {MaxLength}.");
        // The router has already decoded the URL once. A '%' left over is either a double encoding
        // (%252e%252e%252f) or an encoded '/' Kestrel keeps as "%2F": never let a later decode see it.
        if (raw.Contains('%'))
            throw Refuse($"The artifact path contains '%'. Percent-encoded characters are not allowed in artifact paths, so encoded or double-encoded separators and dots cannot slip through.");
        CheckCharacters(raw);

        var path = raw.Normalize(NormalizationForm.FormC);
        if (path.Length > MaxLength)
            throw Refuse($"The artifact path is {path.Length} characters long in Unicode NFC; the limit is {MaxLength}.");
        // NFC maps no character onto '/' or '.' today; should a future Unicode version do so, the
        // meaning of the path would change under the checks that follow.
        if (Count(path, '/') != Count(raw, '/') || Count(path, '.') != Count(raw, '.'))
            throw Refuse($"The artifact path changes its folders or dots under Unicode NFC normalisation.");
        CheckCharacters(path);

        if (path[0] == '/')
            throw Refuse($"The artifact path is absolute (it starts with '/'); give a path relative to the run's artifacts, such as 'model/weights.bin'.");
        if (path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':')
            throw Refuse($"The artifact path starts with a drive ('{path[..2]}'); give a path relative to the run's artifacts.");

        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
            CheckSegment(segments[i], i, segments.Length);
        if (string.Equals(segments[0], ReservedFolder, StringComparison.OrdinalIgnoreCase))
            throw Refuse($"The top-level folder '{ReservedFolder}' is reserved for the portal's own use.");
        return path;
    }

    private static void CheckCharacters(string path)
    {
        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            if (char.IsHighSurrogate(c) && i + 1 < path.Length && char.IsLowSurrogate(path[i + 1]))
            {
                CheckCategory(char.ConvertToUtf32(c, path[i + 1]), i);
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
                throw Refuse($"The artifact path is not valid Unicode (a lone surrogate at position {i + 1}).");
            if (c == '\0')
                throw Refuse($"The artifact path contains a NUL character at position {i + 1}.");
            if (char.IsControl(c))
                throw Refuse($"The artifact path contains a control character (U+{(int)c:X4}) at position {i + 1}.");
            if (c == '\\')
                throw Refuse($"The artifact path contains a backslash at position {i + 1}; separate folders with '/'.");
            if (c > 0x7F)
                CheckCategory(c, i);
        }
    }

    private static void CheckCategory(int codePoint, int index)
    {
        if (In(Lookalikes, codePoint))
            throw Refuse($"The artifact path contains U+{codePoint:X4} at position {index + 1}, which looks like '/', '\\', '.' or ':' but is not; use the ASCII character.");
        var category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        switch (category)
        {
            case UnicodeCategory.Format: // zero-width and bidirectional controls hide or reorder what a person reads
            case UnicodeCategory.LineSeparator:
            case UnicodeCategory.ParagraphSeparator:
            case UnicodeCategory.PrivateUse:
            case UnicodeCategory.OtherNotAssigned:
                throw Refuse($"The artifact path contains U+{codePoint:X4} ({category}) at position {index + 1}, which is not allowed in artifact paths.");
        }
        if (NormalizesUnicode) return;
        if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark || In(ChangedByNfc, codePoint))
            throw Refuse($"The artifact path contains U+{codePoint:X4} at position {index + 1}, which Unicode normalisation (NFC) could change or combine with its neighbour. This portal cannot normalise Unicode (it runs without ICU), so it refuses combining marks, conjoining jamo and compatibility characters; write the path with precomposed characters.");
    }

    private static bool In((int First, int Last)[] ranges, int codePoint)
    {
        foreach (var (first, last) in ranges)
        {
            if (codePoint < first) return false;
            if (codePoint <= last) return true;
        }
        return false;
    }

    private static void CheckSegment(string segment, int index, int count)
    {
        var which = count == 1 ? ErrorMessage.Of($"The artifact path") : ErrorMessage.Of($"Segment {index + 1} of the artifact path");
        if (segment.Length == 0)
            throw index == count - 1
                ? Refuse($"The artifact path ends with '/'; it must name a file.")
                : Refuse($"The artifact path has an empty segment ('//'); folders are separated by a single '/'.");
        if (segment is "..")
            throw Refuse($"The artifact path contains a '..' segment; paths may not climb out of a folder.");
        if (segment is ".")
            throw Refuse($"The artifact path contains a '.' segment; write the path without it.");
        if (segment.AsSpan().TrimStart(". ").IsEmpty)
            throw Refuse($"{which} ('{segment}') is only dots and spaces.");
        if (segment[^1] is '.' or ' ')
            throw Refuse($"{which} ('{segment}') ends with a dot or a space, which some file systems drop silently.");
        var bytes = Encoding.UTF8.GetByteCount(segment);
        if (bytes > MaxSegmentBytes)
            throw Refuse($"{which} is {bytes} bytes long in UTF-8; a file or folder name may be at most {MaxSegmentBytes}.");
    }

    private static int Count(string s, char c) => s.AsSpan().Count(c);

    private static PortalException Refuse(FormattableString message) => PortalException.Invalid(message, Field);
}
