using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace ModelOps.Portal.Notifications;

/// <summary>
/// The signature a receiver checks: <c>sha256=</c> and the hex HMAC-SHA256, keyed with the hook's
/// secret, of the unix-seconds timestamp, a dot and the body. The timestamp is inside the signature,
/// so a receiver that rejects a timestamp more than five minutes from its clock refuses a replay.
/// </summary>
public static class WebhookSignature
{
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public static string Sign(string secret, long timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    /// <summary>What a receiver does: the signature matches (in constant time) and the timestamp is recent.</summary>
    public static bool Verify(string secret, string timestampHeader, string body, string signatureHeader, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (!long.TryParse(timestampHeader, out var t) || Math.Abs(now.ToUnixTimeSeconds() - t) > (tolerance ?? Tolerance).TotalSeconds) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, t, body)), Encoding.ASCII.GetBytes(signatureHeader));
    }
}

/// <summary>Keeps hook secrets encrypted at rest with the portal's Data Protection keys.</summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("ModelOps.Webhooks.Secret");

    public static string NewSecret() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
    public string Protect(string secret) => _protector.Protect(secret);
    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
