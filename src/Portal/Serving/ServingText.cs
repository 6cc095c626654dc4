namespace ModelOps.Portal.Serving;

/// <summary>The serving panel's strings: ServingText.resx (en) and ServingText.zh-CN.resx.</summary>
public sealed class ServingText;
