namespace ModelOps.Portal.Tracking;

/// <summary>The tracking pages' strings (experiments, compare, API tokens): TrackingText.resx (en) and TrackingText.zh-CN.resx.</summary>
public sealed class TrackingText;
