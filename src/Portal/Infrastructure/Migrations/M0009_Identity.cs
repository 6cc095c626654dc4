using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// Sign-in, teams and roles (docs/identity.md). Identity's user tables (its schema version 1, without
/// roles: roles are per team), the teams and their members, and the owning team on datasets,
/// experiments, registered models and schedules. Everything that existed before belongs to team 1,
/// "default". Tokens made before sign-in existed had no owner but a name; they become service tokens
/// of the default team with the Editor role, so the scripts using them keep working (an Admin can revoke them).
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000009_Identity")]
public sealed class M0009_Identity : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            CREATE TABLE AspNetUsers (
                Id INTEGER NOT NULL CONSTRAINT PK_AspNetUsers PRIMARY KEY AUTOINCREMENT,
                DisplayName TEXT NULL,
                IsSiteAdmin INTEGER NOT NULL,
                DisabledAt TEXT NULL,
                CreatedAt TEXT NOT NULL,
                CreatedBy TEXT NOT NULL,
                UserName TEXT NULL,
                NormalizedUserName TEXT NULL,
                Email TEXT NULL,
                NormalizedEmail TEXT NULL,
                EmailConfirmed INTEGER NOT NULL,
                PasswordHash TEXT NULL,
                SecurityStamp TEXT NULL,
                ConcurrencyStamp TEXT NULL,
                PhoneNumber TEXT NULL,
                PhoneNumberConfirmed INTEGER NOT NULL,
                TwoFactorEnabled INTEGER NOT NULL,
                LockoutEnd TEXT NULL,
                LockoutEnabled INTEGER NOT NULL,
                AccessFailedCount INTEGER NOT NULL
            );
            CREATE INDEX EmailIndex ON AspNetUsers (NormalizedEmail);
            CREATE UNIQUE INDEX UserNameIndex ON AspNetUsers (NormalizedUserName);
            CREATE TABLE AspNetUserClaims (
                Id INTEGER NOT NULL CONSTRAINT PK_AspNetUserClaims PRIMARY KEY AUTOINCREMENT,
                UserId INTEGER NOT NULL CONSTRAINT FK_AspNetUserClaims_AspNetUsers_UserId REFERENCES AspNetUsers (Id) ON DELETE CASCADE,
                ClaimType TEXT NULL,
                ClaimValue TEXT NULL
            );
            CREATE INDEX IX_AspNetUserClaims_UserId ON AspNetUserClaims (UserId);
            CREATE TABLE AspNetUserLogins (
                LoginProvider TEXT NOT NULL,
                ProviderKey TEXT NOT NULL,
                ProviderDisplayName TEXT NULL,
                UserId INTEGER NOT NULL CONSTRAINT FK_AspNetUserLogins_AspNetUsers_UserId REFERENCES AspNetUsers (Id) ON DELETE CASCADE,
                CONSTRAINT PK_AspNetUserLogins PRIMARY KEY (LoginProvider, ProviderKey)
            );
            CREATE INDEX IX_AspNetUserLogins_UserId ON AspNetUserLogins (UserId);
            CREATE TABLE AspNetUserTokens (
                UserId INTEGER NOT NULL CONSTRAINT FK_AspNetUserTokens_AspNetUsers_UserId REFERENCES AspNetUsers (Id) ON DELETE CASCADE,
                LoginProvider TEXT NOT NULL,
                Name TEXT NOT NULL,
                Value TEXT NULL,
                CONSTRAINT PK_AspNetUserTokens PRIMARY KEY (UserId, LoginProvider, Name)
            );
            CREATE TABLE teams (
                Id INTEGER NOT NULL CONSTRAINT PK_teams PRIMARY KEY AUTOINCREMENT,
                Name TEXT NOT NULL,
                Description TEXT NULL,
                CreatedAt TEXT NOT NULL,
                CreatedBy TEXT NOT NULL
            );
            CREATE UNIQUE INDEX IX_teams_Name ON teams (Name);
            INSERT INTO teams (Id, Name, Description, CreatedAt, CreatedBy)
                VALUES (1, 'default', 'Owns everything made before teams existed.', strftime('%Y-%m-%d %H:%M:%S', 'now'), 'migration');
            CREATE TABLE team_members (
                TeamId INTEGER NOT NULL CONSTRAINT FK_team_members_teams_TeamId REFERENCES teams (Id) ON DELETE CASCADE,
                UserId INTEGER NOT NULL CONSTRAINT FK_team_members_AspNetUsers_UserId REFERENCES AspNetUsers (Id) ON DELETE CASCADE,
                Role TEXT NOT NULL,
                AddedAt TEXT NOT NULL,
                AddedBy TEXT NOT NULL,
                CONSTRAINT PK_team_members PRIMARY KEY (TeamId, UserId)
            );
            CREATE INDEX IX_team_members_UserId ON team_members (UserId);
            ALTER TABLE datasets ADD COLUMN TeamId INTEGER NOT NULL DEFAULT 1;
            CREATE INDEX IX_datasets_TeamId ON datasets (TeamId);
            ALTER TABLE experiments ADD COLUMN TeamId INTEGER NOT NULL DEFAULT 1;
            CREATE INDEX IX_experiments_TeamId ON experiments (TeamId);
            ALTER TABLE registered_models ADD COLUMN TeamId INTEGER NOT NULL DEFAULT 1;
            CREATE INDEX IX_registered_models_TeamId ON registered_models (TeamId);
            ALTER TABLE schedules ADD COLUMN TeamId INTEGER NOT NULL DEFAULT 1;
            CREATE INDEX IX_schedules_TeamId ON schedules (TeamId);
            ALTER TABLE api_tokens ADD COLUMN UserId INTEGER NULL;
            ALTER TABLE api_tokens ADD COLUMN TeamId INTEGER NULL;
            ALTER TABLE api_tokens ADD COLUMN Role TEXT NULL;
            ALTER TABLE api_tokens ADD COLUMN ReadOnly INTEGER NOT NULL DEFAULT 0;
            UPDATE api_tokens SET TeamId = 1, Role = 'Editor';
            CREATE INDEX IX_api_tokens_UserId ON api_tokens (UserId);
            CREATE INDEX IX_api_tokens_TeamId ON api_tokens (TeamId);
            """);
}
