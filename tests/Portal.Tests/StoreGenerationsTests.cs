using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// Caches on the predict path trust these counters instead of the store, so a change that does not
/// bump them would serve a stale version or let a revoked role through.
/// </summary>
[Collection(StoreGenerationsCollection.Name)]
public sealed class StoreGenerationsTests
{
    [Fact]
    public async Task A_saved_team_change_bumps_access_and_not_serving()
    {
        using var folder = new TempFolder();
        await using var db = Open(folder);
        var (serving, access) = (StoreGenerations.Serving, StoreGenerations.Access);
        db.Teams.Add(new Identity.Team { Name = "gen-team", CreatedAt = DateTime.UtcNow, CreatedBy = "test" });
        await db.SaveChangesAsync();
        Assert.True(StoreGenerations.Access > access);
        Assert.Equal(serving, StoreGenerations.Serving);
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task A_change_inside_a_transaction_bumps_again_when_it_commits()
    {
        using var folder = new TempFolder();
        await using var db = Open(folder);
        await using var tx = await db.Database.BeginTransactionAsync();
        db.Teams.Add(new Identity.Team { Name = "gen-tx", CreatedAt = DateTime.UtcNow, CreatedBy = "test" });
        await db.SaveChangesAsync();
        var afterSave = StoreGenerations.Access;
        await tx.CommitAsync();
        Assert.True(StoreGenerations.Access > afterSave, "a cache refilled between SaveChanges and the commit would keep the old state");
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task Saving_nothing_of_interest_bumps_nothing()
    {
        using var folder = new TempFolder();
        await using var db = Open(folder);
        var (serving, access) = (StoreGenerations.Serving, StoreGenerations.Access);
        db.AuditEvents.Add(new Audit.AuditEvent { At = DateTime.UtcNow, Actor = "test", Action = "test", Subject = "test:1" });
        await db.SaveChangesAsync();
        Assert.Equal((serving, access), (StoreGenerations.Serving, StoreGenerations.Access));
        SqliteConnection.ClearAllPools();
    }

    private static PortalDb Open(TempFolder folder)
    {
        var db = new PortalDb(new DbContextOptionsBuilder<PortalDb>().UseSqlite($"Data Source={Path.Combine(folder.Path, "p.db")};Pooling=False").Options);
        db.Database.Migrate();
        return db;
    }
}

/// <summary>The counters are process-wide, so tests that read them exactly run alone, not beside other test classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StoreGenerationsCollection
{
    public const string Name = "store generations";
}
