namespace ModelOps.Portal.Serving;

/// <summary>ModelOps:Serving in configuration: how often figures are written, how long they are kept, queue bounds.</summary>
public sealed class ServingOptions
{
    public const string Section = "ModelOps:Serving";

    /// <summary>
    /// Whether predictions are counted, sampled for drift and copied to a shadow. Off only to measure
    /// what monitoring costs (benchmarks/serving); routing and validation are the same either way.
    /// </summary>
    public bool Monitoring { get; set; } = true;
    /// <summary>How often the per-minute figures and drift are written (milliseconds).</summary>
    public int FlushMilliseconds { get; set; } = 10_000;
    /// <summary>Minute rows and drift points older than this are deleted.</summary>
    public double RetentionDays { get; set; } = 30;
    /// <summary>Requests waiting for the shadow version; more are dropped (and counted).</summary>
    public int ShadowQueue { get; set; } = 1024;
    /// <summary>
    /// LibTorch's intra-op threads in the portal process. One by default: a served request is a few rows
    /// through a small net, where splitting a matmul over threads costs more than it saves, and idle
    /// OpenMP threads spin on the cores the web server needs. 0 leaves LibTorch's default (one per core).
    /// </summary>
    public int TorchThreads { get; set; } = 1;
    /// <summary>The fewest served rows a drift evaluation needs.</summary>
    public int DriftMinRows { get; set; } = 100;
}
