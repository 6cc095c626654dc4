using ModelOps.Engine.Training;
using ModelOps.Jobs.Protocol;

namespace ModelOps.Jobs.Worker;

/// <summary>
/// Bridges the trainer's callbacks (on the training thread) to the portal: step metrics are buffered
/// and sent in batches by <see cref="FlushAsync"/>; epoch metrics and checkpoints are sent before
/// training continues, so what the portal acknowledged is what a resume can rely on.
/// </summary>
public sealed class ReportingObserver(PortalClient portal, CancellationToken ct) : ITrainingObserver
{
    private const int MaxBatch = 1000;
    private readonly object _gate = new();
    private readonly List<MetricPoint> _pending = [];
    // One flush at a time: the epoch-end flush must not return while the heartbeat loop is still
    // sending that epoch's points, or the checkpoint could be acknowledged before its metrics.
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private volatile TrainingProgress? _latest;

    public TrainingProgress? Latest => _latest;

    public void OnProgress(TrainingProgress progress)
    {
        _latest = progress;
        if (progress.RecentTrainLoss is { } loss && double.IsFinite(loss))
            lock (_gate) _pending.Add(new MetricPoint("train_loss_step", loss, progress.GlobalStep, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
    }

    public void OnEpochEnd(EpochMetrics metrics)
    {
        if (!double.IsFinite(metrics.TrainLoss))
            throw new TrainingDivergedException($"Training diverged in epoch {metrics.Epoch}: the training loss is {metrics.TrainLoss}. Try a smaller learning rate.");
        // Stamped here, once: a batch retried after a lost reply repeats its points exactly, and the
        // portal ignores exact duplicates.
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (_gate)
        {
            _pending.Add(new MetricPoint("train_loss", metrics.TrainLoss, metrics.Epoch, now));
            // A validation split too small to score gives NaN; such points are left out, not sent.
            if (double.IsFinite(metrics.ValidationLoss))
                _pending.Add(new MetricPoint("val_loss", metrics.ValidationLoss, metrics.Epoch, now));
            if (double.IsFinite(metrics.ValidationAccuracy))
                _pending.Add(new MetricPoint("val_accuracy", metrics.ValidationAccuracy, metrics.Epoch, now));
            _pending.Add(new MetricPoint("epoch_seconds", metrics.Seconds, metrics.Epoch, now));
            // The rate in force at the end of the epoch, so a schedule's shape shows next to the losses.
            if (double.IsFinite(metrics.LearningRate) && metrics.LearningRate > 0)
                _pending.Add(new MetricPoint("learning_rate", metrics.LearningRate, metrics.Epoch, now));
        }
        FlushAsync().GetAwaiter().GetResult();
    }

    /// <summary>
    /// A cross-validation fold finished: each of its figures is sent at once as <c>cv_&lt;metric&gt;</c> with
    /// step = fold (1-based), so the run page can show the folds while the next one trains. The folds' mean
    /// and deviation come with the finish report.
    /// </summary>
    public void OnFold(FoldResult fold)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (_gate)
        {
            foreach (var (name, value) in fold.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
                if (double.IsFinite(value))
                    _pending.Add(new MetricPoint(FoldMetricKey(name), value, fold.Fold, now));
        }
        FlushAsync().GetAwaiter().GetResult();
    }

    /// <summary>Points measured elsewhere (the system sampler's), sent with the next flush.</summary>
    public void Enqueue(IReadOnlyList<MetricPoint> points)
    {
        lock (_gate) _pending.AddRange(points);
    }

    /// <summary>The metric key of one fold figure (accuracy -> cv_accuracy).</summary>
    public static string FoldMetricKey(string metric) => "cv_" + metric;

    public void OnCheckpoint(string checkpointPath, int epoch) =>
        portal.UploadArtifactAsync(WorkerArtifacts.Checkpoint, checkpointPath, epoch, ct).GetAwaiter().GetResult();

    public async Task FlushAsync()
    {
        await _flushing.WaitAsync(ct);
        try
        {
            while (true)
            {
                List<MetricPoint> batch;
                lock (_gate)
                {
                    if (_pending.Count == 0) return;
                    batch = _pending.Take(MaxBatch).ToList();
                    _pending.RemoveRange(0, batch.Count);
                }
                await portal.LogBatchAsync(new LogBatch(Metrics: batch), ct);
            }
        }
        finally
        {
            _flushing.Release();
        }
    }
}

public sealed class TrainingDivergedException(string message) : Exception(message);
