using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// A store from before sign-in upgrades without losing anything: what existed belongs to the default
/// team, and its API tokens become that team's Editor service tokens, so the scripts using them still work.
/// </summary>
public sealed class IdentityMigrationTests
{
    [Fact]
    public void What_existed_before_teams_belongs_to_the_default_team_and_old_tokens_keep_working_as_its_editors()
    {
        using var folder = new TempFolder();
        var options = new DbContextOptionsBuilder<PortalDb>().UseSqlite($"Data Source={Path.Combine(folder.Path, "old.db")};Pooling=False").Options;
        using (var db = new PortalDb(options))
        {
            db.GetService<IMigrator>().Migrate("20261201000008_AuditDetail");
            db.Database.ExecuteSqlRaw("""
                INSERT INTO datasets (Id, Name, CreatedAt, CreatedBy) VALUES (1, 'd', '2026-11-01 10:00:00', 'u');
                INSERT INTO registered_models (Id, Name, CreatedAt, CreatedBy) VALUES (1, 'm', '2026-11-01 10:06:00', 'u');
                INSERT INTO experiments (Id, Name, Owner, CreatedAt, UpdatedAt) VALUES (2, 'e', 'u', '2026-11-01 10:00:00', '2026-11-01 10:00:00');
                INSERT INTO api_tokens (Name, Owner, Prefix, TokenHash, CreatedAt) VALUES ('ci', 'u', 'mop_abcdef', 'hash', '2026-11-01 10:00:00');
                """);
        }
        using (var db = new PortalDb(options))
        {
            db.Database.Migrate();
            Assert.Equal("default", db.Teams.Single().Name);
            Assert.Equal(Identity.Team.DefaultId, db.Datasets.Single().TeamId);
            Assert.Equal(Identity.Team.DefaultId, db.RegisteredModels.Single().TeamId);
            Assert.All(db.Experiments.ToList(), e => Assert.Equal(Identity.Team.DefaultId, e.TeamId));
            var token = db.ApiTokens.Single();
            Assert.Equal((Identity.Team.DefaultId, Identity.TeamRole.Editor, false), (token.TeamId!.Value, token.Role!.Value, token.ReadOnly));
            Assert.Null(token.UserId);
            Assert.Empty(db.Users.ToList());
        }
    }
}
