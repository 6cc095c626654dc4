using ModelOps.Portal;

var builder = WebApplication.CreateBuilder(args);
// The packages' (MudBlazor, Plotly.Blazor) and our static assets are served from the build output as well as from a publish.
if (File.Exists(Path.Combine(AppContext.BaseDirectory, "ModelOps.Portal.staticwebassets.runtime.json")))
    builder.WebHost.UseStaticWebAssets();
// Expected failures (4xx) are ProblemDetails, not errors; ProblemDetailsMapping logs the 5xx ones itself.
builder.Logging.AddFilter("Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware", LogLevel.None);
builder.Services.AddPortal(builder.Configuration);
builder.Services.AddPortalUi();

var app = builder.Build();
app.PreparePortal();
app.MapPortalApi();
app.MapPortalUi();
app.Run();

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
