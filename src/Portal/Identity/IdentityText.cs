namespace ModelOps.Portal.Identity;

/// <summary>The sign-in, account and team pages' strings: IdentityText.resx (en) and IdentityText.zh-CN.resx.</summary>
public sealed class IdentityText;
