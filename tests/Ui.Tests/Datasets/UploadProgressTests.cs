using ModelOps.Portal.Datasets;

namespace ModelOps.Ui.Tests.Datasets;

/// <summary>The byte counting behind the upload progress bars.</summary>
public sealed class UploadProgressTests
{
    [Fact]
    public async Task Bytes_read_from_every_tracked_stream_count_towards_one_total()
    {
        var refreshes = 0;
        var progress = new UploadProgress(300, () => { Interlocked.Increment(ref refreshes); return Task.CompletedTask; });
        await using var a = progress.Track(new MemoryStream(new byte[100]));
        await using var b = progress.Track(new MemoryStream(new byte[200]));
        var buffer = new byte[50];
        Assert.Equal(50, await a.ReadAsync(buffer));
        Assert.Equal(50, progress.ReadBytes);
        Assert.Equal(16.7, progress.Percent);
        await a.CopyToAsync(Stream.Null);
        await b.CopyToAsync(Stream.Null);
        Assert.Equal(300, progress.ReadBytes);
        Assert.Equal(100, progress.Percent);
        Assert.True(refreshes >= 1);
    }

    [Fact]
    public void An_empty_upload_does_not_divide_by_zero()
    {
        var progress = new UploadProgress(0, () => Task.CompletedTask);
        Assert.Equal(0, progress.Percent);
    }
}
