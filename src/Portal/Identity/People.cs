using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Identity;

public sealed record UserView(int Id, string UserName, string? DisplayName, bool IsSiteAdmin, bool Disabled, DateTime CreatedAt, IReadOnlyList<MembershipView> Teams);
public sealed record MembershipView(int TeamId, string Team, TeamRole Role);
public sealed record TeamView(int Id, string Name, string? Description, int Members);
public sealed record MemberView(int UserId, string UserName, string? DisplayName, TeamRole Role, bool Disabled);
/// <summary>A new user and, when the portal chose it, their first password (shown once).</summary>
public sealed record CreatedUser(int Id, string UserName, string? Password);

/// <summary>
/// Users, teams and memberships (docs/identity.md). No self sign-up: an Admin creates users. Like the
/// other services this one trusts its caller: the API handlers and the pages check the caller's role
/// with <see cref="Access"/> first. Every change is audited.
/// </summary>
public sealed class People(PortalDb db, UserManager<PortalUser> users, CurrentUser current)
{
    public async Task<CreatedUser> CreateUserAsync(string? userName, string? displayName, string? password, bool siteAdmin, CancellationToken ct, string? actor = null)
    {
        var name = (userName ?? "").Trim();
        if (name.Length is < 2 or > 64 || name.Any(c => !users.Options.User.AllowedUserNameCharacters.Contains(c)))
            throw PortalException.Invalid($"A user name is 2-64 letters, digits or '-', '.', '_', '@'.", "userName");
        if (await users.FindByNameAsync(name) is not null)
            throw new PortalException(PortalError.Conflict, $"The user name {name} is taken.", "userName");
        var chosen = string.IsNullOrEmpty(password) ? NewPassword() : password;
        var user = new PortalUser
        {
            UserName = name, DisplayName = string.IsNullOrWhiteSpace(displayName) ? null : displayName.Trim(), IsSiteAdmin = siteAdmin,
            CreatedAt = DateTime.UtcNow, CreatedBy = actor ?? current.Name,
        };
        Check(await users.CreateAsync(user, chosen), "password");
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = actor ?? current.Name, Action = "user.created", Subject = $"user:{name}", Details = siteAdmin ? "site admin" : null });
        await db.SaveChangesAsync(ct);
        return new CreatedUser(user.Id, name, string.IsNullOrEmpty(password) ? chosen : null);
    }

    /// <summary>A disabled user cannot sign in; their open pages lose the identity at the next revalidation and their tokens stop at once.</summary>
    public async Task SetDisabledAsync(int userId, bool disabled, CancellationToken ct)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, ct) ?? throw PortalException.NotFound($"User {userId}");
        if (user.Id == current.UserId && disabled)
            throw new PortalException(PortalError.Conflict, $"You cannot disable yourself.");
        if ((user.DisabledAt is not null) == disabled) return;
        user.DisabledAt = disabled ? DateTime.UtcNow : null;
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = current.Name, Action = disabled ? "user.disabled" : "user.enabled", Subject = $"user:{user.UserName}" });
        await db.SaveChangesAsync(ct);
    }

    public async Task<string> ResetPasswordAsync(int userId, CancellationToken ct)
    {
        var user = await users.FindByIdAsync(userId.ToString()) ?? throw PortalException.NotFound($"User {userId}");
        var password = NewPassword();
        Check(await users.RemovePasswordAsync(user), "password");
        Check(await users.AddPasswordAsync(user, password), "password");
        await users.UpdateSecurityStampAsync(user);
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = current.Name, Action = "user.password.reset", Subject = $"user:{user.UserName}" });
        await db.SaveChangesAsync(ct);
        return password;
    }

    public async Task<TeamView> CreateTeamAsync(string? name, string? description, CancellationToken ct)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length is < 2 or > 64 || trimmed.Any(char.IsControl))
            throw PortalException.Invalid($"A team name is 2-64 printable characters.", "name");
        if (await db.Teams.AnyAsync(t => t.Name == trimmed, ct))
            throw new PortalException(PortalError.Conflict, $"A team named {trimmed} exists already.", "name");
        var team = new Team { Name = trimmed, Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim(), CreatedAt = DateTime.UtcNow, CreatedBy = current.Name };
        db.Teams.Add(team);
        await db.SaveChangesAsync(ct);
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = current.Name, Action = "team.created", Subject = $"team:{trimmed}", TeamId = team.Id });
        await db.SaveChangesAsync(ct);
        return new TeamView(team.Id, team.Name, team.Description, 0);
    }

    /// <summary>Adds the user to the team with the role, or changes their role there.</summary>
    public async Task SetMemberAsync(int teamId, string? userName, TeamRole role, CancellationToken ct, string? actor = null)
    {
        var team = await db.Teams.FirstOrDefaultAsync(t => t.Id == teamId, ct) ?? throw PortalException.NotFound($"Team {teamId}");
        var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedUserName == (userName ?? "").Trim().ToUpperInvariant(), ct)
            ?? throw PortalException.Invalid($"There is no user named {userName}.", "userName");
        var member = await db.TeamMembers.FirstOrDefaultAsync(m => m.TeamId == teamId && m.UserId == user.Id, ct);
        var before = member?.Role;
        if (before == role) return;
        if (before == TeamRole.Admin) await KeepAnAdminAsync(teamId, user.Id, ct);
        if (member is null)
            db.TeamMembers.Add(new TeamMember { TeamId = teamId, UserId = user.Id, Role = role, AddedAt = DateTime.UtcNow, AddedBy = actor ?? current.Name });
        else
            member.Role = role;
        db.AuditEvents.Add(new AuditEvent
        {
            At = DateTime.UtcNow, Actor = actor ?? current.Name, Action = before is null ? "member.added" : "member.role.changed",
            Subject = $"team:{team.Name}:{user.UserName}", TeamId = teamId, Before = before?.ToString(), After = role.ToString(),
        });
        await db.SaveChangesAsync(ct);
    }

    public async Task RemoveMemberAsync(int teamId, int userId, CancellationToken ct)
    {
        var team = await db.Teams.FirstOrDefaultAsync(t => t.Id == teamId, ct) ?? throw PortalException.NotFound($"Team {teamId}");
        var member = await db.TeamMembers.FirstOrDefaultAsync(m => m.TeamId == teamId && m.UserId == userId, ct) ?? throw PortalException.NotFound($"Member {userId}");
        if (member.Role == TeamRole.Admin) await KeepAnAdminAsync(teamId, userId, ct);
        var name = await db.Users.Where(u => u.Id == userId).Select(u => u.UserName).FirstAsync(ct);
        db.TeamMembers.Remove(member);
        db.AuditEvents.Add(new AuditEvent { At = DateTime.UtcNow, Actor = current.Name, Action = "member.removed", Subject = $"team:{team.Name}:{name}", TeamId = teamId, Before = member.Role.ToString() });
        await db.SaveChangesAsync(ct);
    }

    private async Task KeepAnAdminAsync(int teamId, int leaving, CancellationToken ct)
    {
        var admins = (await db.TeamMembers.Where(m => m.TeamId == teamId && m.UserId != leaving).Select(m => m.Role).ToListAsync(ct)).Count(r => r == TeamRole.Admin);
        if (admins == 0) throw new PortalException(PortalError.Conflict, $"A team keeps at least one Admin; make someone else Admin first.");
    }

    public async Task<IReadOnlyList<TeamView>> TeamsAsync(IReadOnlyCollection<int> visible, CancellationToken ct) =>
        await db.Teams.AsNoTracking().Where(t => visible.Contains(t.Id)).OrderBy(t => t.Name)
            .Select(t => new TeamView(t.Id, t.Name, t.Description, db.TeamMembers.Count(m => m.TeamId == t.Id))).ToListAsync(ct);

    public async Task<IReadOnlyList<MemberView>> MembersAsync(int teamId, CancellationToken ct) =>
        (await (from m in db.TeamMembers.AsNoTracking()
                join u in db.Users.AsNoTracking() on m.UserId equals u.Id
                where m.TeamId == teamId
                select new MemberView(u.Id, u.UserName!, u.DisplayName, m.Role, u.DisabledAt != null)).ToListAsync(ct))
        .OrderBy(m => m.UserName, StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>Every user with their teams, or only the user <paramref name="only"/> (the account page's own).</summary>
    public async Task<IReadOnlyList<UserView>> UsersAsync(CancellationToken ct, int? only = null)
    {
        var all = await db.Users.AsNoTracking().Where(u => only == null || u.Id == only).OrderBy(u => u.UserName).ToListAsync(ct);
        var memberships = (await (from m in db.TeamMembers.AsNoTracking()
                                  join t in db.Teams.AsNoTracking() on m.TeamId equals t.Id
                                  where only == null || m.UserId == only
                                  select new { m.UserId, m.TeamId, t.Name, m.Role }).ToListAsync(ct)).ToLookup(m => m.UserId);
        return all.Select(u => new UserView(u.Id, u.UserName!, u.DisplayName, u.IsSiteAdmin, u.DisabledAt is not null, u.CreatedAt,
            memberships[u.Id].OrderBy(m => m.Name).Select(m => new MembershipView(m.TeamId, m.Name, m.Role)).ToList())).ToList();
    }

    /// <summary>16 characters from an alphabet without look-alikes: about 90 bits.</summary>
    public static string NewPassword()
    {
        const string alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return string.Create(16, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        });
    }

    private static void Check(IdentityResult result, string field)
    {
        if (!result.Succeeded)
            throw PortalException.InvalidAll(result.Errors.Select(e => ErrorMessage.Raw(e.Description)).ToList());
    }
}
