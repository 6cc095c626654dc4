namespace ModelOps.Portal.Tracking.Artifacts;

/// <summary>
/// An upload that has been received, counted and hashed but is not yet visible at its path.
/// Disposing it without <see cref="Commit"/> deletes the staging file.
/// </summary>
public sealed class StagedArtifact : IAsyncDisposable
{
    private readonly ArtifactStore _store;
    private readonly int _runId;
    private readonly string _temp;
    private bool _published;

    internal StagedArtifact(ArtifactStore store, int runId, string temp, ArtifactInfo info)
    {
        _store = store;
        _runId = runId;
        _temp = temp;
        Info = info;
    }

    public ArtifactInfo Info { get; }

    /// <summary>Renames the staged file to its artifact path, replacing an earlier version atomically.</summary>
    public void Commit()
    {
        if (_published) throw new InvalidOperationException("The artifact has already been committed.");
        _store.Publish(_runId, _temp, Info.Path);
        _published = true;
    }

    public ValueTask DisposeAsync()
    {
        if (!_published) File.Delete(_temp);
        return ValueTask.CompletedTask;
    }
}
