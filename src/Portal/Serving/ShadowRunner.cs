using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using ModelOps.Engine.Models;

namespace ModelOps.Portal.Serving;

/// <summary>
/// Runs a copy of served inputs through the model's shadow version after the answer has gone, and
/// counts how many predicted labels agree. The queue is bounded: when the shadow cannot keep up a
/// request is dropped (and counted), never waited for.
/// </summary>
public sealed class ShadowRunner : BackgroundService
{
    private sealed record Job(DeployedVersion Shadow, IReadOnlyList<JsonElement> Inputs, string[] Answered);

    private readonly Channel<Job> _queue;
    private readonly PredictorCache _predictors;
    private readonly ServingMeters _meters;
    private readonly ILogger<ShadowRunner> _log;
    private long _pending;

    public ShadowRunner(PredictorCache predictors, ServingMeters meters, IOptions<ServingOptions> options, ILogger<ShadowRunner> log)
    {
        _predictors = predictors;
        _meters = meters;
        _log = log;
        _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(Math.Max(1, options.Value.ShadowQueue))
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true,
        });
    }

    /// <summary>Requests dropped because the queue was full, since start.</summary>
    public long Dropped => Interlocked.Read(ref _meters.ShadowDroppedTotal);

    public void Offer(DeployedVersion shadow, IReadOnlyList<JsonElement> inputs, IReadOnlyList<Prediction> answered)
    {
        var labels = new string[answered.Count];
        for (var i = 0; i < labels.Length; i++) labels[i] = answered[i].Label;
        Interlocked.Increment(ref _pending);
        if (_queue.Writer.TryWrite(new Job(shadow, inputs, labels))) return;
        Interlocked.Decrement(ref _pending);
        Interlocked.Increment(ref _meters.ShadowDroppedTotal);
        _meters.RecordShadowDropped(shadow.Id);
    }

    /// <summary>Runs what is queued now on the caller (tests, and shutdown), instead of waiting for the background loop.</summary>
    public async Task DrainAsync(CancellationToken ct)
    {
        while (Interlocked.Read(ref _pending) > 0)
        {
            if (_queue.Reader.TryRead(out var job)) Run(job);
            else await Task.Yield();
            ct.ThrowIfCancellationRequested();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in _queue.Reader.ReadAllAsync(stoppingToken))
                Run(job);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Run(Job job)
    {
        try
        {
            var predictor = _predictors.Load(job.Shadow);
            var answers = predictor.Schema.InputKind switch
            {
                ModelSchema.Image => predictor.PredictImages(PredictionInput.Images(job.Inputs, predictor.Schema)),
                ModelSchema.Text => predictor.PredictText(PredictionInput.Texts(job.Inputs)),
                _ => predictor.PredictTabular(PredictionInput.Rows(job.Inputs, predictor.Schema)),
            };
            var agreed = 0;
            for (var i = 0; i < answers.Count && i < job.Answered.Length; i++)
                if (answers[i].Label == job.Answered[i]) agreed++;
            _meters.RecordShadow(job.Shadow.Id, job.Answered.Length, agreed);
        }
        catch (Exception e)
        {
            // A shadow that cannot take the input (another schema) disagrees on every row; it never fails the request.
            _log.LogDebug(e, "Shadow version {VersionId} failed on a copied request", job.Shadow.Id);
            _meters.RecordShadow(job.Shadow.Id, job.Answered.Length, 0);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }
}
