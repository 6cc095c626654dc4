using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Infrastructure;
using ModelOps.TestSupport;

namespace ModelOps.Portal.Tests;

/// <summary>
/// The migrations are written by hand, so nothing else checks that they build the schema the model
/// expects: a store made by the migrations and one made from the model (EnsureCreated) must have the
/// same tables, columns (name, NOT NULL) and unique indexes for every table the model maps.
/// </summary>
public sealed class SchemaTests
{
    [Fact]
    public void The_migrations_build_every_table_column_and_unique_index_the_model_maps()
    {
        using var folder = new TempFolder();
        var migrated = Path.Combine(folder.Path, "migrated.db");
        var modelled = Path.Combine(folder.Path, "model.db");
        using (var db = new PortalDb(Options(migrated))) db.Database.Migrate();
        string script;
        using (var db = new PortalDb(Options(modelled)))
        {
            db.Database.EnsureCreated();
            script = db.Database.GenerateCreateScript();
        }
        var expected = Describe(modelled);
        var actual = Describe(migrated);
        var missing = expected.Except(actual).ToList();
        Assert.True(missing.Count == 0, "The migrations lack what the model maps:\n" + string.Join("\n", missing) + "\n\nThe model's own DDL:\n" + script);
        SqliteConnection.ClearAllPools();
    }

    private static DbContextOptions<PortalDb> Options(string path) =>
        new DbContextOptionsBuilder<PortalDb>().UseSqlite($"Data Source={path};Pooling=False").Options;

    /// <summary>One line per column ("table.column notnull") and per unique index ("table unique(a,b)").</summary>
    private static HashSet<string> Describe(string path)
    {
        var lines = new HashSet<string>();
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        var tables = Query(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__EFMigrationsHistory'", r => r.GetString(0));
        foreach (var table in tables)
        {
            foreach (var column in Query(connection, $"SELECT name, \"notnull\" FROM pragma_table_info('{table}')", r => $"{table}.{r.GetString(0)} {(r.GetInt64(1) == 1 ? "not null" : "null")}"))
                lines.Add(column);
            foreach (var index in Query(connection, $"SELECT name FROM pragma_index_list('{table}') WHERE \"unique\" = 1 AND origin = 'c'", r => r.GetString(0)))
                lines.Add($"{table} unique({string.Join(",", Query(connection, $"SELECT name FROM pragma_index_info('{index}') ORDER BY seqno", r => r.GetString(0)))})");
        }
        return lines;
    }

    private static List<T> Query<T>(SqliteConnection connection, string sql, Func<SqliteDataReader, T> read)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }
}
