using System.Text;
using Microsoft.AspNetCore.Mvc;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Review;

/// <summary>/api/v1/models/{name}/review…: the comparison (JSON, PDF, CSV) and the Approvers' decisions (docs/review.md).</summary>
public static class ReviewApi
{
    public static RouteGroupBuilder MapReviewApi(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/models").WithTags("Review");
        models.MapGet("/{name}/review", Get);
        models.MapGet("/{name}/review.pdf", Pdf);
        models.MapGet("/{name}/review.csv", Csv);
        models.MapGet("/{name}/reviews", List);
        models.MapPost("/{name}/reviews", Decide).WithMetadata(new Identity.NeedsRole(Identity.TeamRole.Approver));
        return api;
    }

    public static Task<ReviewReport> Get(string name, [FromQuery(Name = "v")] int[]? versions, ReviewService reviews, CancellationToken ct) =>
        reviews.LoadAsync(name, versions, ct);

    public static async Task<IResult> Pdf(string name, [FromQuery(Name = "v")] int[]? versions, ReviewService reviews, CurrentUser user, CancellationToken ct)
    {
        var report = await reviews.LoadAsync(name, versions, ct);
        return TypedResults.File(ReviewPdf.Write(report, user.Name), "application/pdf", $"{report.Model}-review.pdf");
    }

    public static async Task<IResult> Csv(string name, [FromQuery(Name = "v")] int[]? versions, ReviewService reviews, CancellationToken ct)
    {
        var report = await reviews.LoadAsync(name, versions, ct);
        return TypedResults.File(Encoding.UTF8.GetBytes(ReviewCsv.Write(report)), "text/csv; charset=utf-8", $"{report.Model}-review.csv");
    }

    public static Task<IReadOnlyList<ReviewDecisionView>> List(string name, ReviewService reviews, CancellationToken ct) => reviews.ListAsync(name, ct);

    public static async Task<IResult> Decide(string name, ReviewRequest request, ReviewService reviews, CancellationToken ct)
    {
        var decision = await reviews.DecideAsync(name, request, ct);
        return TypedResults.Created($"/api/v1/models/{name}/reviews", decision);
    }
}
