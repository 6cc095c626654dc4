namespace ModelOps.Portal.Audit;

/// <summary>Marker for the Audit page's strings (AuditText.resx, AuditText.zh-CN.resx).</summary>
public sealed class AuditText;
