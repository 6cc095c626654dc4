using System.Collections.Concurrent;
using ModelOps.Engine.Models;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Serving;

/// <summary>Loaded predictors by version id, shared by the answering path and the shadow runner.</summary>
public sealed class PredictorCache(DataPaths paths, Microsoft.Extensions.Options.IOptions<ServingOptions> options, ILogger<PredictorCache> log) : IDisposable
{
    private readonly ConcurrentDictionary<int, Lazy<Predictor>> _loaded = new();
    private static int _threadsSet;

    public Predictor Load(DeployedVersion version)
    {
        var lazy = _loaded.GetOrAdd(version.Id, _ => new Lazy<Predictor>(() =>
        {
            // LibTorch's thread count is per process: set once, before the first model runs here.
            if (options.Value.TorchThreads > 0 && Interlocked.Exchange(ref _threadsSet, 1) == 0)
                TorchSharp.torch.set_num_threads(options.Value.TorchThreads);
            log.LogInformation("Loading model version {VersionId} from {Path}", version.Id, version.ArtifactPath);
            return Predictor.Load(paths.Resolve(version.ArtifactPath));
        }));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _loaded.TryRemove(version.Id, out _);
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var lazy in _loaded.Values)
            if (lazy.IsValueCreated) lazy.Value.Dispose();
    }
}
