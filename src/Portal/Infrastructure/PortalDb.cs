using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using ModelOps.Portal.Audit;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;

namespace ModelOps.Portal.Infrastructure;

/// <summary>
/// The portal's store. The schema is created by hand-written migrations under Infrastructure/Migrations
/// (dotnet-ef cannot be restored here); PortalDbSchemaTests checks that this model and that schema agree.
/// All times are UTC. Metric points and latest values are not entities: they are written and read with
/// plain SQL by <see cref="Tracking.MetricStore"/>, which is where the volume is.
/// </summary>
public sealed class PortalDb(DbContextOptions<PortalDb> options) : IdentityUserContext<Identity.PortalUser, int>(options)
{
    public DbSet<Identity.Team> Teams => Set<Identity.Team>();
    public DbSet<Identity.TeamMember> TeamMembers => Set<Identity.TeamMember>();
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<DatasetVersion> DatasetVersions => Set<DatasetVersion>();
    public DbSet<DatasetSensitiveColumn> DatasetSensitiveColumns => Set<DatasetSensitiveColumn>();
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<Tracking.Experiment> Experiments => Set<Tracking.Experiment>();
    public DbSet<Tracking.RunParam> RunParams => Set<Tracking.RunParam>();
    public DbSet<Tracking.RunTag> RunTags => Set<Tracking.RunTag>();
    public DbSet<Tracking.RunArtifact> RunArtifacts => Set<Tracking.RunArtifact>();
    public DbSet<Tracking.ApiToken> ApiTokens => Set<Tracking.ApiToken>();
    public DbSet<Tracking.SavedView> SavedViews => Set<Tracking.SavedView>();
    public DbSet<RegisteredModel> RegisteredModels => Set<RegisteredModel>();
    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<Retraining.Schedule> Schedules => Set<Retraining.Schedule>();
    public DbSet<Retraining.ScheduleFire> ScheduleFires => Set<Retraining.ScheduleFire>();

    private (bool Serving, bool Access) _uncommitted;

    protected override void OnConfiguring(DbContextOptionsBuilder options) =>
        options.AddInterceptors(GenerationCommitInterceptor.Instance);

    /// <summary>Bumps <see cref="StoreGenerations"/> for what this context changed; again at commit when inside a transaction.</summary>
    private void Bump((bool Serving, bool Access) changed)
    {
        StoreGenerations.After(changed);
        if (Database.CurrentTransaction is not null)
            _uncommitted = (_uncommitted.Serving || changed.Serving, _uncommitted.Access || changed.Access);
    }

    internal void FlushGenerations()
    {
        StoreGenerations.After(_uncommitted);
        _uncommitted = default;
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        Audit.AuditTeams.Fill(this);
        var changed = StoreGenerations.Pending(this);
        var saved = base.SaveChanges(acceptAllChangesOnSuccess);
        Bump(changed);
        return saved;
    }

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        Audit.AuditTeams.Fill(this);
        var changed = StoreGenerations.Pending(this);
        var saved = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        Bump(changed);
        return saved;
    }

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
        // Identity's users, claims, logins and tokens (AspNet* tables); roles are per team, below.
        base.OnModelCreating(b);
        b.Entity<Identity.Team>(e =>
        {
            e.ToTable("teams");
            e.HasIndex(x => x.Name).IsUnique();
        });
        b.Entity<Identity.TeamMember>(e =>
        {
            e.ToTable("team_members");
            e.HasKey(x => new { x.TeamId, x.UserId });
            e.Property(x => x.Role).HasConversion<string>();
            e.HasOne<Identity.Team>().WithMany().HasForeignKey(x => x.TeamId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Identity.PortalUser>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(x => x.UserId);
        });
        b.Entity<Dataset>(e =>
        {
            e.ToTable("datasets");
            e.HasIndex(x => x.TeamId);
            e.HasIndex(x => x.Name).IsUnique();
            e.HasMany(x => x.Versions).WithOne(x => x.Dataset).HasForeignKey(x => x.DatasetId);
        });
        b.Entity<DatasetVersion>(e =>
        {
            e.ToTable("dataset_versions");
            e.HasIndex(x => new { x.DatasetId, x.Version }).IsUnique();
        });
        b.Entity<DatasetSensitiveColumn>(e =>
        {
            e.ToTable("dataset_sensitive_columns");
            e.HasOne<Dataset>().WithMany().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(x => new { x.DatasetId, x.Column }).IsUnique();
        });
        b.Entity<Run>(e =>
        {
            e.ToTable("runs");
            e.Property(x => x.Status).HasConversion<int>();
            e.HasIndex(x => x.IdempotencyKey).IsUnique();
            e.HasIndex(x => x.Status);
            e.HasIndex(x => x.CreatedAt);
            e.Property(x => x.Kind).HasConversion<int>();
            e.HasIndex(x => new { x.ExperimentId, x.Id });
            e.HasIndex(x => x.ParentRunId);
            e.HasOne(x => x.DatasetVersion).WithMany().HasForeignKey(x => x.DatasetVersionId);
            e.HasOne(x => x.ParentModelVersion).WithMany().HasForeignKey(x => x.ParentModelVersionId);
            e.HasIndex(x => x.ParentModelVersionId);
            e.HasOne(x => x.Experiment).WithMany().HasForeignKey(x => x.ExperimentId);
            e.HasMany(x => x.Params).WithOne().HasForeignKey(x => x.RunId);
        });
        b.Entity<Tracking.Experiment>(e =>
        {
            e.ToTable("experiments");
            e.HasIndex(x => x.TeamId);
            e.HasIndex(x => x.Name).IsUnique();
            e.HasMany(x => x.Tags).WithOne().HasForeignKey(x => x.ExperimentId);
        });
        b.Entity<Tracking.ExperimentTag>(e =>
        {
            e.ToTable("experiment_tags");
            e.HasKey(x => new { x.ExperimentId, x.Key });
        });
        b.Entity<Tracking.RunParam>(e =>
        {
            e.ToTable("run_params");
            e.HasKey(x => new { x.RunId, x.Key });
        });
        b.Entity<Tracking.RunTag>(e =>
        {
            e.ToTable("run_tags");
            e.HasKey(x => new { x.RunId, x.Key });
        });
        b.Entity<Tracking.RunArtifact>(e =>
        {
            e.ToTable("run_artifacts");
            e.HasKey(x => new { x.RunId, x.Path });
        });
        b.Entity<Tracking.ApiToken>(e =>
        {
            e.ToTable("api_tokens");
            e.HasIndex(x => x.TokenHash).IsUnique();
            e.Property(x => x.Role).HasConversion<string>();
            e.HasIndex(x => x.UserId);
            e.HasIndex(x => x.TeamId);
        });
        b.Entity<Tracking.SavedView>(e =>
        {
            e.ToTable("saved_views");
            e.HasIndex(x => x.ExperimentId);
        });
        b.Entity<RegisteredModel>(e =>
        {
            e.ToTable("registered_models");
            e.HasIndex(x => x.TeamId);
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
            e.HasIndex(x => x.Actor);
            e.HasIndex(x => x.ResourceType);
            e.HasIndex(x => new { x.TeamId, x.At });
        });
        b.Entity<Retraining.Schedule>(e =>
        {
            e.ToTable("schedules");
            e.HasIndex(x => x.TeamId);
            e.HasIndex(x => x.Name).IsUnique();
            e.HasIndex(x => x.DatasetId);
        });
        b.Entity<Retraining.ScheduleFire>(e =>
        {
            e.ToTable("schedule_fires");
            e.HasOne<Retraining.Schedule>().WithMany().HasForeignKey(x => x.ScheduleId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(x => new { x.ScheduleId, x.Id });
            e.HasIndex(x => new { x.ScheduleId, x.JobId }).IsUnique();
            e.HasIndex(x => x.RunId);
            e.HasIndex(x => x.Outcome);
        });
        // Newer parts keep their entity configuration beside their entities (IEntityTypeConfiguration<T>).
        b.ApplyConfigurationsFromAssembly(typeof(PortalDb).Assembly);
    }
}
