namespace ModelOps.Portal.Runs;

/// <summary>The Runs pages' strings (New Run, run detail, its panels): RunsText.resx (English) and RunsText.zh-CN.resx.</summary>
public sealed class RunsText;
