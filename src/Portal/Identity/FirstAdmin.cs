using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Identity;

/// <summary>
/// The first Admin (docs/identity.md): created at start-up from ModelOps:Auth:AdminUserName and
/// AdminPassword while the store has no user; without them the one-time setup page (/setup) asks for one.
/// In demo mode (ModelOps:SeedDemoData, the README's run command) one user per role is seeded and
/// printed to the console; never otherwise.
/// </summary>
public sealed class FirstAdmin(PortalDb db, People people, UserManager<PortalUser> users, IOptions<AuthOptions> auth, IOptions<PortalOptions> portal, ILogger<FirstAdmin> log)
{
    /// <summary>The demo users: name, role in the default team, password. Well known on purpose: demo mode is for trying the portal on loopback.</summary>
    public static readonly (string Name, TeamRole Role, string Password)[] DemoUsers =
    [
        ("admin", TeamRole.Admin, "demo-admin-pass"),
        ("approver", TeamRole.Approver, "demo-approver-pass"),
        ("editor", TeamRole.Editor, "demo-editor-pass"),
        ("viewer", TeamRole.Viewer, "demo-viewer-pass"),
    ];

    /// <summary>The shortest password accepted, for the forms that ask for one.</summary>
    public int PasswordLength => auth.Value.PasswordLength;

    /// <summary>True while the store has no user: only then is the setup page open.</summary>
    public async Task<bool> NeededAsync(CancellationToken ct) => !await db.Users.AnyAsync(ct);

    public async Task EnsureAsync(CancellationToken ct)
    {
        var options = auth.Value;
        if (!string.IsNullOrWhiteSpace(options.AdminUserName) && await users.FindByNameAsync(options.AdminUserName.Trim()) is null && !await db.Users.AnyAsync(ct))
        {
            if (string.IsNullOrEmpty(options.AdminPassword))
                throw new InvalidOperationException("ModelOps:Auth:AdminUserName is set without ModelOps:Auth:AdminPassword.");
            await CreateAdminAsync(options.AdminUserName, options.AdminPassword, ct);
            log.LogInformation("Created the first Admin, {User}, from configuration", options.AdminUserName.Trim());
        }
        if (!portal.Value.SeedDemoData) return;
        foreach (var (name, role, password) in DemoUsers)
        {
            if (await users.FindByNameAsync(name) is null)
            {
                await people.CreateUserAsync(name, null, password, siteAdmin: role == TeamRole.Admin, ct, actor: "demo");
                await people.SetMemberAsync(Team.DefaultId, name, role, ct, actor: "demo");
            }
        }
        Console.WriteLine("Demo users (demo mode only; sign in at /login):");
        foreach (var (name, role, password) in DemoUsers)
            Console.WriteLine($"  {name,-9} {role,-9} password: {password}");
    }

    /// <summary>A site Admin who is also Admin of the default team.</summary>
    public async Task<CreatedUser> CreateAdminAsync(string userName, string password, CancellationToken ct)
    {
        var created = await people.CreateUserAsync(userName, null, password, siteAdmin: true, ct, actor: "setup");
        await people.SetMemberAsync(Team.DefaultId, created.UserName, TeamRole.Admin, ct, actor: "setup");
        return created;
    }
}
