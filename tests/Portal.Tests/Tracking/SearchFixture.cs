namespace ModelOps.Portal.Tests.Tracking;

/// <summary>
/// Five visible runs (1–5) over experiments Vision and Nlp, plus a deleted run (6) and a run in a deleted
/// experiment (7), both of which would match almost every filter. Ids are 1..7 in insertion order.
/// <code>
/// run exp    name    status    kind     created               ended       optimizer lr    layers acc  loss team
/// 1   Vision alpha   Finished  training 2026-10-01 08:00:00   set         adam      0.01  3      0.91 0.30 vision
/// 2   Vision beta    Running   tracked  2026-11-01 10:00:00   -           sgd       0.1   deep   0.85 -    VISION-core
/// 3   Vision gamma   Failed    tracked  2026-11-02 12:30:00.5 set         Adam      0.001 10     0.95 0.10 nlp (+ val/loss 0.2, note it's)
/// 4   Nlp    delta   Queued    training 2026-11-03 00:00:00   -           -         -     -      -    0.50 -
/// 5   Nlp    epsilon Cancelled tracked  2026-11-04 00:00:00   set         adam      0.1   abc    0.85 -    -
/// </code>
/// Run 3's parent is run 1.
/// </summary>
public sealed class SearchFixture : IDisposable
{
    public TrackingDatabase Db { get; } = new();

    public int Vision { get; }
    public int Nlp { get; }

    public SearchFixture()
    {
        Vision = Db.Experiment("Vision");
        Nlp = Db.Experiment("Nlp");
        var gone = Db.Experiment("Gone", deleted: true);

        var r1 = Db.Run(Vision, "alpha", status: 2, kind: 0, createdAt: "2026-10-01 08:00:00", startedAt: "2026-10-01 08:00:05",
            endedAt: "2026-10-01 09:00:00", source: "UI");
        var r2 = Db.Run(Vision, "beta", status: 1, createdAt: "2026-11-01 10:00:00", startedAt: "2026-11-01 10:00:01", createdBy: "bob");
        var r3 = Db.Run(Vision, "gamma", status: 3, createdAt: "2026-11-02 12:30:00.5", startedAt: "2026-11-02 12:30:01",
            endedAt: "2026-11-02 13:00:00", parentRunId: r1);
        var r4 = Db.Run(Nlp, "delta", status: 0, kind: 0, createdAt: "2026-11-03 00:00:00", createdBy: "bob", source: "sweep");
        var r5 = Db.Run(Nlp, "epsilon", status: 4, createdAt: "2026-11-04 00:00:00", startedAt: "2026-11-04 00:00:01",
            endedAt: "2026-11-04 01:00:00");
        var r6 = Db.Run(Vision, "deleted", deleted: true);
        var r7 = Db.Run(gone, "orphan");
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], new[] { r1, r2, r3, r4, r5, r6, r7 });

        Db.Param(r1, "optimizer", "adam");
        Db.Param(r1, "lr", "0.01");
        Db.Param(r1, "layers", "3");
        Db.Param(r2, "optimizer", "sgd");
        Db.Param(r2, "lr", "0.1");
        Db.Param(r2, "layers", "deep");
        Db.Param(r3, "optimizer", "Adam");
        Db.Param(r3, "lr", "0.001");
        Db.Param(r3, "layers", "10");
        Db.Param(r5, "optimizer", "adam");
        Db.Param(r5, "lr", "0.1");
        Db.Param(r5, "layers", "abc");

        Db.Metric(r1, "acc", 0.91);
        Db.Metric(r1, "loss", 0.30);
        Db.Metric(r2, "acc", 0.85);
        Db.Metric(r3, "acc", 0.95);
        Db.Metric(r3, "loss", 0.10);
        Db.Metric(r3, "val/loss", 0.2);
        Db.Metric(r4, "loss", 0.50);
        Db.Metric(r5, "acc", 0.85);

        Db.Tag(r1, "team", "vision");
        Db.Tag(r2, "team", "VISION-core");
        Db.Tag(r3, "team", "nlp");
        Db.Tag(r3, "note", "it's");

        foreach (var hidden in new[] { r6, r7 })
        {
            Db.Param(hidden, "optimizer", "adam");
            Db.Param(hidden, "lr", "0.1");
            Db.Metric(hidden, "acc", 0.99);
            Db.Tag(hidden, "team", "vision");
        }
    }

    public void Dispose() => Db.Dispose();
}
