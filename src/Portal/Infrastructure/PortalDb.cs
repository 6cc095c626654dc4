using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// The portal's store. The schema is created by hand-written migrations under Infrastructure/Migrations
/// (dotnet-ef cannot be restored here); PortalDbSchemaTests checks that this model and that schema agree.
/// All times are UTC.
/// </summary>
public sealed class PortalDb(DbContextOptions<PortalDb> options) : DbContext(options)
{
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<DatasetVersion> DatasetVersions => Set<DatasetVersion>();
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<Metric> Metrics => Set<Metric>();
    public DbSet<RegisteredModel> RegisteredModels => Set<RegisteredModel>();
    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    protected override void ConfigureConventions(ModelConfigurationBuilder conventions)
    {
        // SQLite keeps no kind; every time we store is UTC, so say so when reading it back.
        conventions.Properties<DateTime>().HaveConversion<UtcConverter>();
        conventions.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    private sealed class UtcConverter() : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Dataset>(e =>
        {
            e.ToTable("datasets");
            e.HasIndex(x => x.Name).IsUnique();
            e.HasMany(x => x.Versions).WithOne(x => x.Dataset).HasForeignKey(x => x.DatasetId);
        });
        b.Entity<DatasetVersion>(e =>
        {
            e.ToTable("dataset_versions");
            e.HasIndex(x => new { x.DatasetId, x.Version }).IsUnique();
        });
        b.Entity<Run>(e =>
        {
            e.ToTable("runs");
            e.Property(x => x.Status).HasConversion<int>();
            e.HasIndex(x => x.IdempotencyKey).IsUnique();
            e.HasIndex(x => x.Status);
            e.HasIndex(x => x.CreatedAt);
            e.HasOne(x => x.DatasetVersion).WithMany().HasForeignKey(x => x.DatasetVersionId);
        });
        b.Entity<Metric>(e =>
        {
            e.ToTable("metrics");
            e.HasIndex(x => new { x.RunId, x.Key, x.Step });
        });
        b.Entity<RegisteredModel>(e =>
        {
            e.ToTable("registered_models");
            e.HasIndex(x => x.Name).IsUnique();
            e.HasMany(x => x.Versions).WithOne(x => x.RegisteredModel).HasForeignKey(x => x.RegisteredModelId);
        });
        b.Entity<ModelVersion>(e =>
        {
            e.ToTable("model_versions");
            e.HasIndex(x => new { x.RegisteredModelId, x.Version }).IsUnique();
            e.HasOne(x => x.Run).WithMany().HasForeignKey(x => x.RunId);
        });
        b.Entity<AuditEvent>(e =>
        {
            e.ToTable("audit_events");
            e.HasIndex(x => x.At);
        });
    }
}
