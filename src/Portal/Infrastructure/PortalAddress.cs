using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ModelOps.Portal.Infrastructure;

/// <summary>Where a local worker reaches the portal: the configured URL, else the first address Kestrel bound.</summary>
public static class PortalAddress
{
    public static string Resolve(IServiceProvider services, PortalOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.PortalUrl))
            return options.PortalUrl;
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal)) ?? addresses?.FirstOrDefault()
            ?? throw new InvalidOperationException("The portal's address is unknown; set ModelOps:PortalUrl.");
        // A wildcard binding is reachable on loopback.
        return address.Replace("://0.0.0.0", "://127.0.0.1").Replace("://[::]", "://127.0.0.1").Replace("://+", "://127.0.0.1").Replace("://*", "://127.0.0.1");
    }
}
