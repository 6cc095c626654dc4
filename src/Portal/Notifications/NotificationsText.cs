namespace ModelOps.Portal.Notifications;

/// <summary>The webhooks page's strings: NotificationsText.resx (en) and NotificationsText.zh-CN.resx.</summary>
public sealed class NotificationsText;
