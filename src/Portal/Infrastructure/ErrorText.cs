namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// Marker for the error sentences' resources: ErrorText.resx holds every English template a
/// <see cref="PortalException"/> can carry (key = value = the composite-format template, e.g.
/// "Line {0} has {1} fields; the header has {2}."), ErrorText.zh-CN.resx its Simplified Chinese
/// translation with the same placeholders. Portal.Tests fails when a template has no key.
/// </summary>
public sealed class ErrorText;
