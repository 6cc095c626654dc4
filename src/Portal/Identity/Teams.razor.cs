using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Localization;
using ModelOps.Portal.Infrastructure;
using MudBlazor;

namespace ModelOps.Portal.Identity;

/// <summary>
/// Teams and users: the caller's teams with their members; a team's Admin adds members, changes roles and
/// removes members; a site Admin also creates teams and users, disables and enables users and resets
/// passwords (a password the portal chose is shown once). <see cref="People"/> trusts its caller, so every
/// action checks with <see cref="Access"/> first, whatever buttons the page shows.
/// </summary>
public partial class Teams
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private IStringLocalizer<IdentityText> L { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>One team as the page shows it, with the caller's role there.</summary>
    public sealed record TeamRow(int Id, string Name, string? Description, TeamRole MyRole, IReadOnlyList<MemberView> Members);

    private List<TeamRow> teams = [];
    private IReadOnlyList<UserView> users = [];
    private bool siteAdmin;
    private bool loaded;
    private bool busy;
    private string? error;
    private string? secret;
    private string? secretLabel;
    private string teamName = "";
    private string teamDescription = "";
    private string userName = "";
    private string displayName = "";
    private bool newSiteAdmin;
    private readonly Dictionary<int, string> newNames = [];
    private readonly Dictionary<int, TeamRole> newRoles = [];

    private string NewName(int team) => newNames.GetValueOrDefault(team, "");
    private TeamRole NewRole(int team) => newRoles.GetValueOrDefault(team, TeamRole.Viewer);

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        try
        {
            await using var scope = Scopes.CreateAsyncScope();
            var access = scope.ServiceProvider.GetRequiredService<Access>();
            var people = scope.ServiceProvider.GetRequiredService<People>();
            siteAdmin = await access.IsSiteAdminAsync();
            var rows = new List<TeamRow>();
            foreach (var team in await people.TeamsAsync(await access.TeamsAsync(), CancellationToken.None))
            {
                if (await access.RoleAsync(team.Id) is not { } role) continue;
                rows.Add(new TeamRow(team.Id, team.Name, team.Description, role, await people.MembersAsync(team.Id, CancellationToken.None)));
            }
            teams = rows;
            users = siteAdmin ? await people.UsersAsync(CancellationToken.None) : [];
        }
        catch (PortalException e)
        {
            error = e.Localized(CultureInfo.CurrentUICulture);
        }
        loaded = true;
    }

    /// <summary>Runs one action after its check; a refusal or failure is shown, success goes to the snackbar and the page reloads.</summary>
    private async Task ActAsync(Func<Access, People, Task<string?>> action)
    {
        busy = true;
        error = null;
        try
        {
            await using var scope = Scopes.CreateAsyncScope();
            var outcome = await action(scope.ServiceProvider.GetRequiredService<Access>(), scope.ServiceProvider.GetRequiredService<People>());
            if (outcome is not null) Snackbar.Add(outcome, Severity.Success);
        }
        catch (PortalException e)
        {
            error = e.Localized(CultureInfo.CurrentUICulture);
        }
        finally
        {
            busy = false;
        }
        await LoadAsync();
        StateHasChanged();
    }

    private static async Task RequireSiteAdminAsync(Access access)
    {
        if (!await access.IsSiteAdminAsync())
            throw new PortalException(PortalError.Forbidden, $"Only a site Admin manages users and creates teams.");
    }

    /// <summary>Adds the user to the team with the role, or changes their role there: the team's Admin only.</summary>
    public Task SetMemberAsync(int teamId, string? member, TeamRole role) => ActAsync(async (access, people) =>
    {
        await access.RequireAsync(teamId, TeamRole.Admin, $"Team {teamId}");
        var known = teams.FirstOrDefault(t => t.Id == teamId)?.Members.Any(m => string.Equals(m.UserName, member?.Trim(), StringComparison.OrdinalIgnoreCase)) == true;
        await people.SetMemberAsync(teamId, member, role, CancellationToken.None);
        newNames.Remove(teamId);
        return known ? L["{0} is now {1}.", member?.Trim() ?? "", L[role.ToString()]] : L["{0} was added as {1}.", member?.Trim() ?? "", L[role.ToString()]];
    });

    public Task RemoveMemberAsync(int teamId, int userId, string name) => ActAsync(async (access, people) =>
    {
        await access.RequireAsync(teamId, TeamRole.Admin, $"Team {teamId}");
        await people.RemoveMemberAsync(teamId, userId, CancellationToken.None);
        return L["{0} was removed from the team.", name];
    });

    private async Task ConfirmRemoveAsync(TeamRow team, MemberView member)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync(L["Remove member"], L["Remove {0} from {1}? They lose access to the team's resources at once.", member.UserName, team.Name],
            yesText: L["Remove"], cancelText: L["Cancel"]);
        if (confirmed == true) await RemoveMemberAsync(team.Id, member.UserId, member.UserName);
    }

    public Task CreateTeamAsync(string? name, string? description) => ActAsync(async (access, people) =>
    {
        await RequireSiteAdminAsync(access);
        var team = await people.CreateTeamAsync(name, description, CancellationToken.None);
        teamName = teamDescription = "";
        return L["Team {0} created.", team.Name];
    });

    public Task CreateUserAsync(string? name, string? display, bool asSiteAdmin) => ActAsync(async (access, people) =>
    {
        await RequireSiteAdminAsync(access);
        var created = await people.CreateUserAsync(name, display, null, asSiteAdmin, CancellationToken.None);
        secret = created.Password;
        secretLabel = L["The password of {0}; copy it now, it will not be shown again.", created.UserName];
        userName = displayName = "";
        newSiteAdmin = false;
        return L["User {0} created.", created.UserName];
    });

    public Task SetDisabledAsync(int userId, bool disabled) => ActAsync(async (access, people) =>
    {
        await RequireSiteAdminAsync(access);
        await people.SetDisabledAsync(userId, disabled, CancellationToken.None);
        return disabled ? L["The user is disabled."] : L["The user is enabled."];
    });

    private async Task ConfirmDisabledAsync(UserView user, bool disabled)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync(disabled ? L["Disable user"] : L["Enable user"],
            disabled ? L["Disable {0}? They are signed out and their tokens stop working at once.", user.UserName] : L["Enable {0}? They can sign in again.", user.UserName],
            yesText: disabled ? L["Disable"] : L["Enable"], cancelText: L["Cancel"]);
        if (confirmed == true) await SetDisabledAsync(user.Id, disabled);
    }

    public Task ResetPasswordAsync(int userId, string name) => ActAsync(async (access, people) =>
    {
        await RequireSiteAdminAsync(access);
        secret = await people.ResetPasswordAsync(userId, CancellationToken.None);
        secretLabel = L["The new password of {0}; copy it now, it will not be shown again.", name];
        return L["The password of {0} was reset.", name];
    });

    private async Task ConfirmResetAsync(UserView user)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync(L["Reset password"], L["Reset the password of {0}? The old one stops working and they are signed out.", user.UserName],
            yesText: L["Reset password"], cancelText: L["Cancel"]);
        if (confirmed == true) await ResetPasswordAsync(user.Id, user.UserName);
    }
}
