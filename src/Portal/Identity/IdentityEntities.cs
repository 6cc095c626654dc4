using Microsoft.AspNetCore.Identity;

namespace ModelOps.Portal.Identity;

/// <summary>
/// A person who signs in (docs/identity.md). Identity keeps the name, password hash, lockout and
/// security stamp; the portal adds a display name, the site-Admin flag and a disabled mark. A
/// disabled user cannot sign in, their open pages lose their identity within the revalidation
/// interval, and their tokens stop at once (every request checks).
/// </summary>
public sealed class PortalUser : IdentityUser<int>
{
    public string? DisplayName { get; set; }
    /// <summary>Manages teams and users across the portal; acts as Admin in every team.</summary>
    public bool IsSiteAdmin { get; set; }
    public DateTime? DisabledAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
}

/// <summary>
/// A team owns datasets, experiments (and their runs), registered models, schedules and service tokens.
/// Team 1, "default", owns everything that existed before teams did.
/// </summary>
public sealed class Team
{
    public const int DefaultId = 1;

    public int Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
}

/// <summary>A person's role in one team.</summary>
public sealed class TeamMember
{
    public int TeamId { get; set; }
    public int UserId { get; set; }
    public TeamRole Role { get; set; }
    public DateTime AddedAt { get; set; }
    public required string AddedBy { get; set; }
}

/// <summary>
/// Roles per team, each including the ones before it: a Viewer reads; an Editor also uploads, trains,
/// registers and schedules; an Approver (a manager) also moves versions into and out of Production;
/// an Admin also manages members, service tokens and deletes.
/// </summary>
public enum TeamRole
{
    Viewer = 1,
    Editor = 2,
    Approver = 3,
    Admin = 4,
}

public static class TeamRoles
{
    public static readonly TeamRole[] All = [TeamRole.Viewer, TeamRole.Editor, TeamRole.Approver, TeamRole.Admin];

    public static bool TryParse(string? text, out TeamRole role) =>
        Enum.TryParse(text?.Trim(), ignoreCase: true, out role) && Enum.IsDefined(role) && !int.TryParse(text, out _);
}
