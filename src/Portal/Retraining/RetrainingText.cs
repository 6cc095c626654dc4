namespace ModelOps.Portal.Retraining;

/// <summary>The Schedules page's strings: RetrainingText.resx (en) and RetrainingText.zh-CN.resx.</summary>
public sealed class RetrainingText;
