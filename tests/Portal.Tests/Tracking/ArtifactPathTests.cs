using System.Text.RegularExpressions;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking.Artifacts;

namespace ModelOps.Portal.Tests.Tracking;

/// <summary>
/// Inputs are written with visible escapes (\u2215, \u0000) and unescaped by the test, so each case
/// reads plainly in a test listing and no raw control or lone-surrogate character reaches the runner.
/// </summary>
public sealed class ArtifactPathTests
{
    [Theory]
    [InlineData("model/weights.bin", "model/weights.bin")]
    [InlineData("plots/loss curve.png", "plots/loss curve.png")]
    [InlineData(@"\u00FCn\u00EFcode/ok.txt", @"\u00FCn\u00EFcode/ok.txt")]
    [InlineData("weights.bin", "weights.bin")]
    [InlineData(".hidden/.config", ".hidden/.config")]
    [InlineData("file..txt", "file..txt")]
    [InlineData("..file", "..file")]
    [InlineData("a/b/c/d/e/f.txt", "a/b/c/d/e/f.txt")]
    [InlineData("data:v1/x", "data:v1/x")]
    [InlineData("checkpoints/epoch-3 (best).pt", "checkpoints/epoch-3 (best).pt")]
    [InlineData(@"\u65E5\u672C\u8A9E/\u30D5\u30A1\u30A4\u30EB.txt", @"\u65E5\u672C\u8A9E/\u30D5\u30A1\u30A4\u30EB.txt")]
    [InlineData(@"\uD83D\uDCC8/chart.png", @"\uD83D\uDCC8/chart.png")] // an emoji: a valid surrogate pair
    [InlineData(@"\uD55C\uAD6D\uC5B4/\u0444\u0430\u0439\u043B.txt", @"\uD55C\uAD6D\uC5B4/\u0444\u0430\u0439\u043B.txt")] // Hangul syllables, Cyrillic
    [InlineData(".modelopsx/a", ".modelopsx/a")]
    [InlineData("x/.modelops/a", "x/.modelops/a")]
    [InlineData("half\u00BD.txt", "half\u00BD.txt")] // NFKC gives '1⁄2' with a fraction slash, never '/'
    public void Normalize_GoodPath_ReturnsCanonicalForm(string input, string expected) =>
        Assert.Equal(Regex.Unescape(expected), ArtifactPath.Normalize(Regex.Unescape(input)));

    [Theory]
    // empty
    [InlineData("", "empty")]
    // absolute or drive-relative
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("//etc/passwd", "absolute")]
    [InlineData("/", "absolute")]
    [InlineData("C:/Windows/win.ini", "drive")]
    [InlineData("c:evil", "drive")]
    // backslashes
    [InlineData(@"..\\..\\etc\\passwd", "backslash")]
    [InlineData(@"a\\b", "backslash")]
    [InlineData(@"\\\\server\\share", "backslash")]
    // dot segments
    [InlineData("..", "'..' segment")]
    [InlineData("../etc/passwd", "'..' segment")]
    [InlineData("a/../../b", "'..' segment")]
    [InlineData("a/..", "'..' segment")]
    [InlineData(".", "'.' segment")]
    [InlineData("./a", "'.' segment")]
    [InlineData("a/./b", "'.' segment")]
    // empty segments
    [InlineData("a//b", "empty segment")]
    [InlineData("a/", "ends with '/'")]
    // percent: encoded and double-encoded traversal never survives a second decode
    [InlineData("..%2f..%2fetc%2fpasswd", "'%'")]
    [InlineData("..%2F..%2Fetc", "'%'")]
    [InlineData("%2e%2e/etc/passwd", "'%'")]
    [InlineData("%252e%252e%252fetc", "'%'")]
    [InlineData("a%00b", "'%'")]
    [InlineData("%c0%ae%c0%ae/x", "'%'")] // overlong UTF-8 dots
    [InlineData("100%", "'%'")]
    // NUL and control characters
    [InlineData(@"a\u0000b", "NUL")]
    [InlineData(@"model\u0000.bin", "NUL")]
    [InlineData(@"a\nb", "control character")]
    [InlineData(@"a\tb", "control character")]
    [InlineData(@"a\rb", "control character")]
    [InlineData(@"a\u001Bb", "control character")]
    [InlineData(@"a\u007Fb", "control character")]
    [InlineData(@"a\u0085b", "control character")]
    // segments of only dots and spaces, or ending in one (Windows drops them silently)
    [InlineData("...", "only dots and spaces")]
    [InlineData("a/.../b", "only dots and spaces")]
    [InlineData(". .", "only dots and spaces")]
    [InlineData(" ", "only dots and spaces")]
    [InlineData("a/ /b", "only dots and spaces")]
    [InlineData("a./b", "ends with a dot or a space")]
    [InlineData("a/b.", "ends with a dot or a space")]
    [InlineData("a /b", "ends with a dot or a space")]
    [InlineData("model.bin ", "ends with a dot or a space")]
    // lookalikes of '/', '\' and '.'
    [InlineData(@"..\uFF0F..\uFF0Fetc\uFF0Fpasswd", "looks like")] // fullwidth solidus
    [InlineData(@"..\u2215..\u2215etc", "looks like")] // division slash
    [InlineData(@"a\u2044b", "looks like")] // fraction slash
    [InlineData(@"a\u29F8b", "looks like")] // big solidus
    [InlineData(@"a\uFF3Cb", "looks like")] // fullwidth reverse solidus
    [InlineData(@"a\uFE68b", "looks like")] // small reverse solidus
    [InlineData(@"a\u2216b", "looks like")] // set minus
    [InlineData(@"\u2024\u2024/etc", "looks like")] // one dot leader
    [InlineData(@"\u2025/etc", "looks like")] // two dot leader
    [InlineData(@"\u2026/etc", "looks like")] // ellipsis
    [InlineData(@"\uFF0E\uFF0E/etc", "looks like")] // fullwidth full stop
    [InlineData(@"\uFE52\uFE52/etc", "looks like")] // small full stop
    [InlineData(@"\uFF23\uFF1A/x", "looks like")] // fullwidth "C:"
    [InlineData(@"\u2488x", "looks like")] // digit one full stop
    [InlineData(@"\u2105/x", "looks like")] // care of: NFKC 'c/o'
    [InlineData(@"a\uFE30b", "looks like")] // vertical two dot leader
    // invisible, reordering and invalid characters
    [InlineData(@"a\u200Bb", "Format")] // zero-width space
    [InlineData(@"evil\u202Egnp.exe", "Format")] // right-to-left override
    [InlineData(@"\uFEFFa", "Format")] // byte order mark
    [InlineData(@"a\u2028b", "LineSeparator")]
    [InlineData(@"a\uE000b", "PrivateUse")]
    [InlineData(@"a\uD800b", "lone surrogate")]
    [InlineData(@"a\uDC00", "lone surrogate")]
    // the store's own folder
    [InlineData(".modelops/tmp/x.part", "reserved")]
    [InlineData(".modelops", "reserved")]
    [InlineData(".ModelOps/x", "reserved")]
    public void Normalize_HostilePath_IsRefusedWithReason(string input, string reason)
    {
        var refused = Assert.Throws<PortalException>(() => ArtifactPath.Normalize(Regex.Unescape(input)));
        Assert.Equal(PortalError.Invalid, refused.Error);
        Assert.Equal(400, refused.StatusCode);
        Assert.Equal("path", refused.Field);
        Assert.Contains(reason, refused.Message);
    }

    [Fact]
    public void Normalize_Null_IsRefused() =>
        Assert.Contains("empty", Assert.Throws<PortalException>(() => ArtifactPath.Normalize(null)).Message);

    [Fact]
    public void Normalize_LengthLimits_AreExact()
    {
        var a = new string('a', 255);
        var longest = string.Join('/', a, a, a, new string('b', 254), "c");
        Assert.Equal(1024, longest.Length);
        Assert.Equal(longest, ArtifactPath.Normalize(longest));
        Assert.Contains("1025 characters", Assert.Throws<PortalException>(() => ArtifactPath.Normalize(longest + "b")).Message);

        Assert.Contains("256 bytes", Assert.Throws<PortalException>(() => ArtifactPath.Normalize(new string('a', 256))).Message);
        // The segment limit is in UTF-8 bytes, as file systems count it: 128 'é' are 256 bytes.
        Assert.Equal(new string('\u00E9', 127) + "a", ArtifactPath.Normalize(new string('\u00E9', 127) + "a"));
        Assert.Contains("256 bytes", Assert.Throws<PortalException>(() => ArtifactPath.Normalize("x/" + new string('\u00E9', 128))).Message);
        Assert.Contains("1025 characters", Assert.Throws<PortalException>(() => ArtifactPath.Normalize(new string('a', 1025))).Message);
    }

    [Theory]
    [InlineData(@"u\u0308ni\u0308code/ok.txt", @"\u00FCn\u00EFcode/ok.txt")] // decomposed, as macOS names files
    [InlineData(@"\u212Bngstr\u00F6m.txt", @"\u00C5ngstr\u00F6m.txt")] // ANGSTROM SIGN is a singleton: NFC replaces it
    [InlineData(@"\u1112\u1161\u11AB.txt", @"\uD55C.txt")] // conjoining jamo compose into a syllable
    public void Normalize_NonNfcPath_IsStoredAsNfcOrRefused(string input, string nfc)
    {
        // With ICU the path is normalised; without it (InvariantGlobalization) it cannot be, and is refused
        // rather than stored under a second spelling of the same name.
        if (ArtifactPath.NormalizesUnicode)
        {
            Assert.Equal(Regex.Unescape(nfc), ArtifactPath.Normalize(Regex.Unescape(input)));
        }
        else
        {
            var refused = Assert.Throws<PortalException>(() => ArtifactPath.Normalize(Regex.Unescape(input)));
            Assert.Contains("normalisation (NFC)", refused.Message);
        }
    }

    [Fact]
    public void Normalize_IsIdempotent()
    {
        foreach (var path in new[] { "model/weights.bin", "\u00FCber/x", "plots/loss curve.png", ".hidden/a b.txt" })
        {
            var once = ArtifactPath.Normalize(path);
            Assert.Equal(once, ArtifactPath.Normalize(once));
        }
    }
}
