using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Tracking.Artifacts;
using ModelOps.TestSupport;

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

/// <summary>
/// The store on a real data folder, with links planted as someone with a shell on the server could
/// plant them. Kept beside the path tests: together they are the artifact traversal defences.
/// </summary>
public sealed class ArtifactStoreTests : IDisposable
{
    private readonly TempFolder _data = new();
    private readonly TempFolder _outside = new();
    private readonly ArtifactStore _store;

    public ArtifactStoreTests() => _store = StoreWithLimit(1 << 20);

    public void Dispose()
    {
        _data.Dispose();
        _outside.Dispose();
    }

    private ArtifactStore StoreWithLimit(long maxUploadBytes)
    {
        var options = Options.Create(new PortalOptions { DataDirectory = _data.Path, MaxUploadBytes = maxUploadBytes });
        return new ArtifactStore(new DataPaths(options), options);
    }

    private string Artifacts(int runId = 1) => Directory.CreateDirectory(_store.RunArtifactsRoot(runId)).FullName;

    private static MemoryStream Body(string text) => new(Encoding.UTF8.GetBytes(text));

    private string Staging() => Path.Combine(Artifacts(), ".modelops", "tmp");

    private void AssertNoStagingLeft() =>
        Assert.Empty(Directory.Exists(Staging()) ? Directory.GetFiles(Staging()) : []);

    private static async Task<string> ReadAllAsync(Stream stream)
    {
        await using (stream)
        using (var reader = new StreamReader(stream))
            return await reader.ReadToEndAsync();
    }

    private static async Task<PortalException> RefusedAsync(Func<Task> action, PortalError error)
    {
        var refused = await Assert.ThrowsAsync<PortalException>(action);
        Assert.Equal(error, refused.Error);
        return refused;
    }

    [Fact]
    public async Task WriteAsync_NewPath_StoresBytesSizeAndSha256()
    {
        var info = await _store.WriteAsync(1, "model/weights.bin", Body("weights v1"), default);

        Assert.Equal("model/weights.bin", info.Path);
        Assert.Equal(10, info.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("weights v1"))), info.Sha256);
        Assert.Equal(DateTimeKind.Utc, info.CreatedAt.Kind);
        Assert.Equal("weights v1", await File.ReadAllTextAsync(Path.Combine(Artifacts(), "model", "weights.bin")));
        Assert.Equal("weights v1", await ReadAllAsync(_store.OpenRead(1, "model/weights.bin")));
        AssertNoStagingLeft();
    }

    [Fact]
    public async Task WriteAndRead_WithTheDataFolderBehindALinkAnAdministratorMade_Work()
    {
        // Only links below the data folder are refused; the check after opening resolves the folder itself.
        var linkedRoot = Path.Combine(_outside.Path, "data-link");
        Directory.CreateSymbolicLink(linkedRoot, _data.Path);
        var options = Options.Create(new PortalOptions { DataDirectory = linkedRoot });
        var store = new ArtifactStore(new DataPaths(options), options);

        await store.WriteAsync(3, "model/weights.bin", Body("through the link"), default);

        Assert.Equal("through the link", await ReadAllAsync(store.OpenRead(3, "model/weights.bin")));
        Assert.True(File.Exists(Path.Combine(_data.Path, "runs", "3", "artifacts", "model", "weights.bin")));
    }

    [Fact]
    public async Task WriteAsync_SamePathAgain_ReplacesTheFile()
    {
        await _store.WriteAsync(1, "notes.txt", Body("first"), default);
        var second = await _store.WriteAsync(1, "notes.txt", Body("second version"), default);

        Assert.Equal(14, second.SizeBytes);
        Assert.Equal("second version", await ReadAllAsync(_store.OpenRead(1, "notes.txt")));
    }

    [Fact]
    public async Task WriteAsync_OverTheUploadLimit_Is413AndLeavesNothing()
    {
        var store = StoreWithLimit(10);
        await store.WriteAsync(1, "a.bin", Body("0123456789"), default);

        await RefusedAsync(() => store.WriteAsync(1, "a.bin", Body("0123456789A"), default), PortalError.TooLarge);
        await RefusedAsync(() => store.WriteAsync(1, "b.bin", Body("0123456789A"), default), PortalError.TooLarge);

        Assert.Equal("0123456789", await ReadAllAsync(store.OpenRead(1, "a.bin")));
        Assert.False(File.Exists(Path.Combine(Artifacts(), "b.bin")));
        AssertNoStagingLeft();
    }

    [Fact]
    public async Task WriteAsync_BodyFailsMidway_KeepsThePreviousVersionAndNoStagingFile()
    {
        await _store.WriteAsync(1, "model.bin", Body("good"), default);

        await Assert.ThrowsAsync<IOException>(() => _store.WriteAsync(1, "model.bin", new FailingStream(), default));

        Assert.Equal("good", await ReadAllAsync(_store.OpenRead(1, "model.bin")));
        AssertNoStagingLeft();
    }

    [Fact]
    public async Task WriteAndRead_ThroughAPlantedFolderLink_AreRefusedAndTouchNothingOutside()
    {
        File.WriteAllText(Path.Combine(_outside.Path, "secret.txt"), "secret");
        File.CreateSymbolicLink(Path.Combine(Artifacts(), "evil"), _outside.Path);

        var write = await RefusedAsync(() => _store.WriteAsync(1, "evil/planted.txt", Body("x"), default), PortalError.Invalid);
        Assert.Contains("symbolic link", write.Message);
        await RefusedAsync(() => _store.WriteAsync(1, "evil/secret.txt", Body("overwritten"), default), PortalError.Invalid);
        await RefusedAsync(() => _store.WriteAsync(1, "evil/new/deeper.txt", Body("x"), default), PortalError.Invalid);
        await RefusedAsync(() => Task.FromResult(_store.OpenRead(1, "evil/secret.txt")), PortalError.Invalid);

        Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(_outside.Path).Select(Path.GetFileName));
        Assert.Equal("secret", File.ReadAllText(Path.Combine(_outside.Path, "secret.txt")));
        AssertNoStagingLeft();
    }

    [Fact]
    public async Task WriteAndRead_APlantedFileLink_AreRefused()
    {
        var sentinel = Path.Combine(_outside.Path, "sentinel.txt");
        File.WriteAllText(sentinel, "sentinel");
        File.CreateSymbolicLink(Path.Combine(Artifacts(), "link.bin"), sentinel);
        File.CreateSymbolicLink(Path.Combine(Artifacts(), "dangling.bin"), Path.Combine(_outside.Path, "made-by-portal.txt"));

        await RefusedAsync(() => _store.WriteAsync(1, "link.bin", Body("overwritten"), default), PortalError.Invalid);
        await RefusedAsync(() => Task.FromResult(_store.OpenRead(1, "link.bin")), PortalError.Invalid);
        await RefusedAsync(() => _store.WriteAsync(1, "dangling.bin", Body("x"), default), PortalError.Invalid);

        Assert.Equal("sentinel", File.ReadAllText(sentinel));
        Assert.False(File.Exists(Path.Combine(_outside.Path, "made-by-portal.txt")));
    }

    [Fact]
    public async Task WriteAndRead_WhenTheRunFolderItselfIsALink_AreRefused()
    {
        Directory.CreateDirectory(Path.Combine(_data.Path, "runs"));
        Directory.CreateDirectory(Path.Combine(_outside.Path, "artifacts"));
        File.WriteAllText(Path.Combine(_outside.Path, "artifacts", "secret.txt"), "secret");
        File.CreateSymbolicLink(Path.Combine(_data.Path, "runs", "7"), _outside.Path);

        var refused = await RefusedAsync(() => _store.WriteAsync(7, "x.txt", Body("x"), default), PortalError.Invalid);
        Assert.Contains("run 7", refused.Message);
        await RefusedAsync(() => Task.FromResult(_store.OpenRead(7, "secret.txt")), PortalError.Invalid);

        Assert.Equal(["artifacts"], Directory.GetFileSystemEntries(_outside.Path).Select(Path.GetFileName));
        Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(Path.Combine(_outside.Path, "artifacts")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task WriteAsync_ThroughALinkedStagingFolder_IsRefused()
    {
        Directory.CreateDirectory(Path.Combine(Artifacts(), ".modelops"));
        File.CreateSymbolicLink(Path.Combine(Artifacts(), ".modelops", "tmp"), _outside.Path);

        await RefusedAsync(() => _store.WriteAsync(1, "x.txt", Body("x"), default), PortalError.Invalid);

        Assert.Empty(Directory.GetFileSystemEntries(_outside.Path));
    }

    [Fact]
    public async Task Write_FileWhereAFolderIs_AndFolderWhereAFileIs_AreConflicts()
    {
        await _store.WriteAsync(1, "plots/loss.png", Body("png"), default);
        await _store.WriteAsync(1, "report.txt", Body("txt"), default);

        await RefusedAsync(() => _store.WriteAsync(1, "plots", Body("x"), default), PortalError.Conflict);
        await RefusedAsync(() => _store.WriteAsync(1, "report.txt/inner.txt", Body("x"), default), PortalError.Conflict);
        AssertNoStagingLeft();
    }

    [Fact]
    public async Task OpenRead_MissingFileOrAFolder_IsNotFound()
    {
        await _store.WriteAsync(1, "plots/loss.png", Body("png"), default);

        await RefusedAsync(() => Task.FromResult(_store.OpenRead(1, "plots/missing.png")), PortalError.NotFound);
        await RefusedAsync(() => Task.FromResult(_store.OpenRead(1, "nowhere/missing.png")), PortalError.NotFound);
        await RefusedAsync(() => Task.FromResult(_store.OpenRead(2, "plots/loss.png")), PortalError.NotFound);
        Assert.Contains("folder", (await RefusedAsync(() => Task.FromResult(_store.OpenRead(1, "plots")), PortalError.NotFound)).Message);
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b")]
    [InlineData(".modelops/tmp/x.part")]
    [InlineData("u\u0308ber.txt")] // not in normalised form (or, without ICU, not normalisable)
    public async Task StoreCalls_WithAPathThatIsNotNormalised_AreRefused(string path)
    {
        await RefusedAsync(() => _store.WriteAsync(1, path, Body("x"), default), PortalError.Invalid);
        await RefusedAsync(() => Task.FromResult(_store.OpenRead(1, path)), PortalError.Invalid);
        Assert.False(File.Exists(Path.Combine(_data.Path, "runs", "escape.txt")));
    }

    private sealed class FailingStream : Stream
    {
        private int _reads;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) =>
            _reads++ == 0 ? Fill(buffer.AsSpan(offset, count)) : throw new IOException("The client went away.");
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            _reads++ == 0 ? ValueTask.FromResult(Fill(buffer.Span)) : ValueTask.FromException<int>(new IOException("The client went away."));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private static int Fill(Span<byte> buffer)
        {
            buffer[..4].Fill((byte)'x');
            return 4;
        }
    }
}
