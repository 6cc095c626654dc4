namespace ModelOps.Portal.Review;

/// <summary>The review page's strings: ReviewText.resx (en) and ReviewText.zh-CN.resx.</summary>
public sealed class ReviewText;
