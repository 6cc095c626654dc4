using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ModelOps.Portal.Infrastructure.Migrations;

/// <summary>
/// Team webhooks, their deliveries and the log of attempts, and the dispatcher's cursor in the
/// portal_events outbox (Notifications/Webhook.cs, docs/webhooks.md). The cursor starts at the
/// outbox's end: events raised before webhooks existed are not delivered.
/// </summary>
[DbContext(typeof(PortalDb))]
[Migration("20261201000014_Webhooks")]
public sealed class M0014_Webhooks : Migration
{
    protected override void Up(MigrationBuilder m) =>
        m.Sql("""
            CREATE TABLE webhooks (
                Id INTEGER NOT NULL CONSTRAINT PK_webhooks PRIMARY KEY AUTOINCREMENT,
                TeamId INTEGER NOT NULL,
                Name TEXT NOT NULL,
                Url TEXT NOT NULL,
                ProtectedSecret TEXT NOT NULL,
                Events TEXT NOT NULL,
                Enabled INTEGER NOT NULL,
                CreatedBy TEXT NOT NULL,
                CreatedAt TEXT NOT NULL
            );
            CREATE INDEX IX_webhooks_TeamId ON webhooks (TeamId);
            CREATE TABLE webhook_deliveries (
                Id INTEGER NOT NULL CONSTRAINT PK_webhook_deliveries PRIMARY KEY AUTOINCREMENT,
                WebhookId INTEGER NOT NULL CONSTRAINT FK_webhook_deliveries_webhooks_WebhookId REFERENCES webhooks (Id) ON DELETE CASCADE,
                EventId INTEGER NULL,
                Type TEXT NOT NULL,
                Body TEXT NOT NULL,
                Status TEXT NOT NULL,
                Attempts INTEGER NOT NULL,
                CreatedAt TEXT NOT NULL,
                NextAttemptAt TEXT NULL,
                FinishedAt TEXT NULL
            );
            CREATE INDEX IX_webhook_deliveries_Status_NextAttemptAt ON webhook_deliveries (Status, NextAttemptAt);
            CREATE INDEX IX_webhook_deliveries_WebhookId_Id ON webhook_deliveries (WebhookId, Id);
            CREATE TABLE webhook_attempts (
                Id INTEGER NOT NULL CONSTRAINT PK_webhook_attempts PRIMARY KEY AUTOINCREMENT,
                DeliveryId INTEGER NOT NULL CONSTRAINT FK_webhook_attempts_webhook_deliveries_DeliveryId REFERENCES webhook_deliveries (Id) ON DELETE CASCADE,
                WebhookId INTEGER NOT NULL,
                Attempt INTEGER NOT NULL,
                At TEXT NOT NULL,
                StatusCode INTEGER NULL,
                Error TEXT NULL,
                DurationMs INTEGER NOT NULL,
                NextAttemptAt TEXT NULL
            );
            CREATE INDEX IX_webhook_attempts_DeliveryId ON webhook_attempts (DeliveryId);
            CREATE INDEX IX_webhook_attempts_WebhookId_Id ON webhook_attempts (WebhookId, Id);
            CREATE TABLE webhook_cursor (
                Id INTEGER NOT NULL CONSTRAINT PK_webhook_cursor PRIMARY KEY,
                LastEventId INTEGER NOT NULL
            );
            INSERT INTO webhook_cursor (Id, LastEventId) VALUES (1, COALESCE((SELECT MAX(Id) FROM portal_events), 0));
            """);
}
