namespace ModelOps.Portal.Home;

/// <summary>The overview page's strings: HomeText.resx (en) and HomeText.zh-CN.resx.</summary>
public sealed class HomeText;
