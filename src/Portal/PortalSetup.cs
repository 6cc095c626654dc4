using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelOps.Jobs;
using ModelOps.Jobs.Scheduling;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Demo;
using ModelOps.Portal.Identity;
using ModelOps.Portal.Infrastructure;
using ModelOps.Portal.Jobs;
using ModelOps.Portal.Registry;
using ModelOps.Portal.Runs;
using ModelOps.Portal.Retraining;
using ModelOps.Portal.Serving;
using ModelOps.Portal.Tracking;
using ModelOps.Portal.Tracking.Artifacts;

namespace ModelOps.Portal;

public static class PortalSetup
{
    /// <summary>The store, the features' services, and the scheduler with this portal's run lifecycle.</summary>
    public static IServiceCollection AddPortal(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<PortalOptions>(configuration.GetSection(PortalOptions.Section));
        services.Configure<CostOptions>(configuration.GetSection(CostOptions.Section)); // compute cost
        services.AddHttpContextAccessor();
        services.AddPortalCultures();
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemDetailsMapping>();
        // A body or route value the framework cannot bind throws BadHttpRequestException (with the
        // JsonException inside) for ProblemDetailsMapping, instead of ending in an empty 400.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOpenApi();
        services.AddSingleton<WriteGate>();
        services.AddSingleton<WriteGateInterceptor>();
        void Store(IServiceProvider sp, DbContextOptionsBuilder o) => o
            .UseSqlite(sp.GetRequiredService<IOptions<PortalOptions>>().Value.ResolveConnectionString())
            .AddInterceptors(sp.GetRequiredService<WriteGateInterceptor>())
            // M0002 switches foreign keys off around a table rebuild, as SQLite's ALTER TABLE guide says;
            // that PRAGMA cannot run inside a transaction, which is what this warning is about.
            .ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.NonTransactionalMigrationOperationWarning));
        services.AddDbContextFactory<PortalDb>(Store, ServiceLifetime.Singleton);
        services.AddDbContext<PortalDb>(Store, ServiceLifetime.Scoped, ServiceLifetime.Singleton);
        services.AddHealthChecks().AddDbContextCheck<PortalDb>();

        services.AddSingleton<DataPaths>();
        services.AddPortalIdentity(configuration);
        services.AddScoped<CurrentUser>();
        services.AddScoped<DatasetIngest>();
        services.AddDatasetPrivacy(); // sensitive columns; IRawDataAccess defaults to "everyone may see raw values"
        services.AddScoped<RunLauncher>();
        services.AddScoped<RegistryService>();
        services.AddScoped<Review.ReviewService>();
        services.AddSingleton<Jobs.JobQueueQuery>();
        services.AddScoped<Jobs.ClientRunService>();
        services.AddSingleton<RunEvents>();
        services.AddServing(configuration); // canary, shadow, monitoring, drift
        services.AddSingleton<PredictionService>();
        services.AddScoped<RunLifecycle>();
        services.AddScoped<RunJobs>();
        services.AddJobsDashboard();
        services.AddScoped<IRunLifecycle>(sp => sp.GetRequiredService<RunLifecycle>());
        services.AddScoped<DemoSeed>();
        services.AddSingleton<Tracking.TrackingStore>();
        services.AddScoped<Tracking.TokenService>();
        services.AddSingleton<Tracking.Artifacts.ArtifactStore>();
        services.AddHostedService<RunWatchdog>();
        services.AddScoped<Retraining.ScheduleService>();
        services.AddScoped<Retraining.ScheduleRunner>();
        services.AddSingleton<Retraining.ScheduleDecisions>();
        services.AddHostedService(sp => sp.GetRequiredService<Retraining.ScheduleDecisions>());
        services.AddScoped<Audit.AuditQuery>();
        Notifications.WebhooksApi.AddWebhooks(services, configuration); // team webhooks (docs/webhooks.md)

        services.AddModelOpsJobs(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PortalOptions>>().Value;
            var paths = sp.GetRequiredService<DataPaths>();
            return new JobsOptions
            {
                JobStorePath = options.JobStorePath,
                PostgreSqlConnectionString = options.JobStoreConnectionString,
                CpuSlots = options.WorkerSlots,
                GpuSlots = options.GpuSlots,
                QueuePollInterval = TimeSpan.FromMilliseconds(Math.Clamp(options.QueuePollMilliseconds, 10, 60_000)),
                WorkerExecutable = string.IsNullOrWhiteSpace(options.WorkerExecutable)
                    ? Path.Combine(AppContext.BaseDirectory, "ModelOps.Jobs")
                    : Path.GetFullPath(options.WorkerExecutable),
                PortalUrl = () => PortalAddress.Resolve(sp, options),
                WorkRoot = Path.Combine(paths.Root, "work"),
                PauseDispatch = options.PauseDispatch,
                LibTorchDirectory = options.LibTorchDirectory,
                ThreadsPerWorker = options.WorkerThreads > 0
                    ? options.WorkerThreads
                    : Math.Max(1, Environment.ProcessorCount / Math.Max(1, options.WorkerSlots)),
            };
        });
        return services;
    }

    /// <summary>
    /// Before anything is served: apply migrations, switch SQLite to WAL, and hook recovery into the
    /// scheduler's start so runs interrupted by a restart are requeued before any job fires.
    /// </summary>
    public static void PreparePortal(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<PortalOptions>>().Value;
        Directory.CreateDirectory(options.DataRoot);
        SweepLeftovers(options.DataRoot, app.Logger);
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            db.Database.Migrate();
            db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;");
            scope.ServiceProvider.GetRequiredService<Identity.FirstAdmin>().EnsureAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        RemoveLegacySchedulerStore(options, app.Logger);
        var jobs = app.Services.GetRequiredService<JobsHost>();
        jobs.BeforeStart(async ct =>
        {
            using var scope = app.Services.CreateScope();
            var lifecycle = scope.ServiceProvider.GetRequiredService<RunLifecycle>();
            // Interrupted runs go back to Queued, and every Queued run gets a job unless its job is still pending.
            var queued = await lifecycle.RecoverAfterRestartAsync(ct);
            SweepWorkFolders(Path.Combine(options.DataRoot, "work"), keep: queued.ToHashSet(), app.Logger);
            // Cron schedules get their recurring jobs (a tick missed while down stays due and fires once).
            await scope.ServiceProvider.GetRequiredService<Retraining.ScheduleService>().SyncAllAsync(ct);
        });
        if (options.SeedDemoData)
        {
            app.Lifetime.ApplicationStarted.Register(() => _ = Task.Run(async () =>
            {
                using var scope = app.Services.CreateScope();
                await scope.ServiceProvider.GetRequiredService<DemoSeed>().SeedAsync(app.Lifetime.ApplicationStopping);
            }));
        }
    }

    /// <summary>
    /// Quartz kept a copy of the queue in scheduler.db; the portal's database is the truth about every
    /// queued run, and the start-up recovery gives each one a Hangfire job, so the old store is removed.
    /// </summary>
    private static void RemoveLegacySchedulerStore(PortalOptions options, ILogger log)
    {
        foreach (var file in new[] { "", "-wal", "-shm", "-journal" }.Select(s => options.LegacySchedulerDatabasePath + s).Where(File.Exists))
        {
            File.Delete(file);
            log.LogInformation("Removed Quartz's job store {File}: queued runs are requeued on Hangfire from the portal's database", file);
        }
    }

    /// <summary>
    /// Upload staging folders are deleted when an upload ends, but a killed process leaves them;
    /// at start-up no upload is in flight, so any that remain are debris.
    /// </summary>
    private static void SweepLeftovers(string dataRoot, ILogger log)
    {
        var temp = Path.Combine(dataRoot, "tmp");
        if (!Directory.Exists(temp)) return;
        foreach (var folder in Directory.EnumerateDirectories(temp, "upload-*"))
        {
            try
            {
                Directory.Delete(folder, recursive: true);
                log.LogInformation("Removed an upload left by an earlier process: {Folder}", folder);
            }
            catch (IOException ex)
            {
                log.LogWarning(ex, "Could not remove {Folder}", folder);
            }
        }
    }

    /// <summary>
    /// After recovery nothing is Running, so a worker folder belongs to a Queued run (whose resume
    /// reuses its dataset copy) or is debris of a run that ended while the portal was down.
    /// </summary>
    private static void SweepWorkFolders(string workRoot, IReadOnlySet<int> keep, ILogger log)
    {
        if (!Directory.Exists(workRoot)) return;
        foreach (var folder in Directory.EnumerateDirectories(workRoot))
        {
            if (int.TryParse(Path.GetFileName(folder), out var runId) && keep.Contains(runId)) continue;
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException ex)
            {
                log.LogWarning(ex, "Could not remove {Folder}", folder);
            }
        }
    }

    public static WebApplication MapPortalApi(this WebApplication app)
    {
        // Before the exception handler, so ProblemDetails are written in the request's language.
        app.UseForwardedHeaders();
        app.UseSecurityHeaders();
        app.UseRequestLocalization();
        app.UseExceptionHandler();
        // Any 4xx on /api that ends without a body (no route, wrong method) becomes ProblemDetails.
        app.UseStatusCodePages(ApiStatusPages.WriteAsync);
        // Every endpoint needs an identity (IdentitySetup's fallback policy) unless it allows anonymous callers.
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseMiddleware<Tracking.ApiCallers>();
        app.MapOpenApi("/api/v1/openapi.json");
        app.MapHealthChecks("/healthz").AllowAnonymous();
        app.MapAccountEndpoints();
        var api = app.MapGroup("/api/v1").RequireResourceAccess();
        api.MapDatasetsApi();
        api.MapRunsApi();
        api.MapExperimentsApi();
        api.MapSearchApi();
        api.MapTrackingApi();
        api.MapTokensApi();
        api.MapTeamsApi();
        api.MapArtifactsApi();
        api.MapWorkerApi();
        api.MapModelsApi();
        Review.ReviewApi.MapReviewApi(api);
        api.MapPredictApi();
        api.MapSchedulesApi();
        Audit.AuditApi.MapAuditApi(api);
        Notifications.WebhooksApi.MapWebhooksApi(api);
        return app;
    }
}
