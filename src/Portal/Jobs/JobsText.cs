namespace ModelOps.Portal.Jobs;

/// <summary>The jobs queue's strings: JobsText.resx (en) and JobsText.zh-CN.resx.</summary>
public sealed class JobsText;
