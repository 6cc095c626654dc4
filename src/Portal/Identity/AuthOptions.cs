namespace ModelOps.Portal.Identity;

/// <summary>The "ModelOps:Auth" section (docs/identity.md).</summary>
public sealed class AuthOptions
{
    public const string Section = "ModelOps:Auth";

    /// <summary>
    /// The first Admin, created at start-up while the store has no user. Both empty: the portal shows a
    /// one-time setup page instead, until someone creates the first Admin there.
    /// </summary>
    public string? AdminUserName { get; set; }
    public string? AdminPassword { get; set; }
    /// <summary>How often an open page re-reads its user (disabled, password changed): at most this long a stale identity acts.</summary>
    public int RevalidateSeconds { get; set; } = 30;
    /// <summary>Sign-in attempts per client address per minute; more answer 429 with Retry-After.</summary>
    public int SignInsPerMinute { get; set; } = 10;
    /// <summary>Token creations per caller per minute.</summary>
    public int TokensPerMinute { get; set; } = 10;
    /// <summary>Failed passwords in a row before a user is locked out for <see cref="LockoutMinutes"/>.</summary>
    public int MaxFailedSignIns { get; set; } = 5;
    public int LockoutMinutes { get; set; } = 5;
    /// <summary>Minimum password length (length over composition rules, as NIST SP 800-63B advises).</summary>
    public int PasswordLength { get; set; } = 10;
    /// <summary>Sign-in lasts this long without activity (sliding).</summary>
    public int SessionHours { get; set; } = 12;
}
