namespace ModelOps.Portal.Runs;

/// <summary>
/// The prices compute is charged at (<c>ModelOps:Cost</c>, docs/cost.md). A cost is always worked out from a
/// run's stored seconds with the prices configured now, so changing a price re-prices every run. A price of 0
/// means that kind of compute is shown as time only.
/// </summary>
public sealed class CostOptions
{
    public const string Section = "ModelOps:Cost";

    public double PricePerGpuHour { get; set; } = 2.50;
    public double PricePerCpuCoreHour { get; set; } = 0.05;
    /// <summary>An ISO 4217 code, shown beside every cost.</summary>
    public string Currency { get; set; } = "USD";

    /// <summary>Whether any price is set; with none, pages show compute time without a cost.</summary>
    public bool Priced => PricePerGpuHour > 0 || PricePerCpuCoreHour > 0;
}
