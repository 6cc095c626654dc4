using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Notifications;

public sealed class WebhookOptions
{
    /// <summary>CIDRs an Admin allows outbound hooks to reach although they are not public (empty by default).</summary>
    public List<string> AllowedNetworks { get; set; } = [];
    /// <summary>Attempts per delivery, the first included.</summary>
    public int MaxAttempts { get; set; } = 6;
    /// <summary>Seconds before the first retry; each later retry waits <see cref="BackoffFactor"/> times longer.</summary>
    public double FirstRetrySeconds { get; set; } = 10;
    public double BackoffFactor { get; set; } = 4;

    /// <summary>When attempt <paramref name="attempt"/> (1-based) failed: the wait before the next, or null when it was the last.</summary>
    public TimeSpan? RetryAfter(int attempt) =>
        attempt >= MaxAttempts ? null : TimeSpan.FromSeconds(FirstRetrySeconds * Math.Pow(BackoffFactor, attempt - 1));
    public double TimeoutSeconds { get; set; } = 10;
    public double PollSeconds { get; set; } = 2;
    public int RetentionDays { get; set; } = 30;
    public int KeepPerHook { get; set; } = 1000;
}

/// <summary>
/// The SSRF guard for outbound hooks: only http/https without credentials, and an address that is
/// public or inside <see cref="WebhookOptions.AllowedNetworks"/>, checked when a hook is saved and
/// again at connect time, where the checked address is the one connected to (no second lookup).
/// </summary>
public sealed class OutboundGuard(IOptions<WebhookOptions> options)
{
    private IReadOnlyList<IPNetwork> Allowed => options.Value.AllowedNetworks.Select(IPNetwork.Parse).ToList();

    /// <summary>Why the address may not be reached, or null when it may.</summary>
    public string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (Allowed.Any(n => n.Contains(address))) return null;
        var kind = Kind(address);
        return kind is null ? null : $"{address} is a {kind} address";
    }

    internal static string? Kind(IPAddress a)
    {
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            if (b[0] == 0) return "unspecified";
            if (b[0] == 127) return "loopback";
            if (b[0] == 10 || (b[0] == 172 && b[1] >= 16 && b[1] < 32) || (b[0] == 192 && b[1] == 168)) return "private";
            if (b[0] == 100 && b[1] >= 64 && b[1] < 128) return "private (CGNAT)";
            if (b[0] == 169 && b[1] == 254) return "link-local";
            if (b[0] >= 224 && b[0] < 240) return "multicast";
            if (b[0] >= 240) return "reserved";
            return null;
        }
        if (a.Equals(IPAddress.IPv6Any)) return "unspecified";
        if (a.Equals(IPAddress.IPv6Loopback)) return "loopback";
        if (a.IsIPv6LinkLocal) return "link-local";
        if (a.IsIPv6Multicast) return "multicast";
        if (a.IsIPv6SiteLocal || (a.GetAddressBytes()[0] & 0xFE) == 0xFC) return "private";
        return null;
    }

    /// <summary>Checks a URL a hook is saved with; a refusal is a 400 with a sentence.</summary>
    public async Task<Uri> ValidateAsync(string? url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw PortalException.Invalid($"The webhook URL '{url}' is not an absolute http or https URL.", "url");
        if (uri.UserInfo.Length > 0)
            throw PortalException.Invalid($"A webhook URL must not hold credentials (a user name or password).", "url");
        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.DnsSafeHost, out var literal)) addresses = [literal];
        else if (uri.DnsSafeHost.Equals("localhost", StringComparison.OrdinalIgnoreCase) || uri.DnsSafeHost.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
            addresses = [IPAddress.Loopback, IPAddress.IPv6Loopback];
        else
        {
            try { addresses = await Dns.GetHostAddressesAsync(uri.DnsSafeHost, ct); }
            catch (SocketException) { addresses = []; } // checked again at connect time
        }
        foreach (var address in addresses)
            if (Refusal(address) is { } why)
                throw PortalException.Invalid($"The webhook host {uri.Host} may not be reached: {why}; an Admin can allow its network in ModelOps:Webhooks:AllowedNetworks.", "url");
        return uri;
    }

    /// <summary>An HTTP handler that resolves the host itself, refuses a guarded address and connects to the one it checked.</summary>
    public SocketsHttpHandler Handler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(options.Value.TimeoutSeconds),
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            if (addresses.Length == 0) throw new HttpRequestException($"{host} did not resolve to any address.");
            foreach (var address in addresses)
                if (Refusal(address) is { } why)
                    throw new HttpRequestException($"Refused to connect to {host}: {why} (not in ModelOps:Webhooks:AllowedNetworks).");
            var socket = new Socket(addresses[0].AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(addresses[0], context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
