using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ModelOps.Portal.Serving;

public static class ServingServiceCollectionExtensions
{
    /// <summary>Predictions, canary and shadow routing, the per-minute figures and their flusher, and drift.</summary>
    public static IServiceCollection AddServing(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ServingOptions>(configuration.GetSection(ServingOptions.Section));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<DeploymentTable>();
        services.AddSingleton<PredictorCache>();
        services.AddSingleton<ServingMeters>();
        services.AddSingleton<DriftMonitor>();
        services.AddSingleton<ShadowRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<ShadowRunner>());
        services.AddSingleton<ServingMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<ServingMonitor>());
        services.AddSingleton<ServingMetrics>();
        services.AddScoped<ServingService>();
        services.AddSingleton<Review.IReviewServingFigures, ReviewServingFigures>();
        return services;
    }
}
