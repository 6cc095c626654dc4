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
    private volatile TrainingProgress? _latest;

    public TrainingProgress? Latest => _latest;

    public void OnProgress(TrainingProgress progress)
    {
        _latest = progress;
        if (progress.RecentTrainLoss is { } loss && double.IsFinite(loss))
            lock (_gate) _pending.Add(new MetricPoint("train_loss_step", loss, progress.GlobalStep, DateTime.UtcNow));
    }

    public void OnEpochEnd(EpochMetrics metrics)
    {
        var now = DateTime.UtcNow;
        lock (_gate)
        {
            _pending.Add(new MetricPoint("train_loss", metrics.TrainLoss, metrics.Epoch, now));
            _pending.Add(new MetricPoint("val_loss", metrics.ValidationLoss, metrics.Epoch, now));
            _pending.Add(new MetricPoint("val_accuracy", metrics.ValidationAccuracy, metrics.Epoch, now));
            _pending.Add(new MetricPoint("epoch_seconds", metrics.Seconds, metrics.Epoch, now));
        }
        FlushAsync().GetAwaiter().GetResult();
    }

    public void OnCheckpoint(string checkpointPath, int epoch) =>
        portal.UploadArtifactAsync(WorkerArtifacts.Checkpoint, checkpointPath, epoch, ct).GetAwaiter().GetResult();

    public async Task FlushAsync()
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
            await portal.PostMetricsAsync(new MetricBatch(batch), ct);
        }
    }
}
