using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Modules.Webhooks.Public;
using Npgsql;

namespace Modules.Webhooks.Data;

/// <summary>A subscription as the API shows it (never its secret, which only create and rotate-secret return).</summary>
internal class SubscriptionView
{
    [TypeId(WebhookIds.Subscription)] public Guid Id { get; init; }
    public string Url { get; init; } = "";

    /// <summary>The event types delivered.</summary>
    public string[] Events { get; init; } = [];

    public string? Description { get; init; }

    /// <summary>False when paused by the caller or disabled after 3 days of failed deliveries (see <c>disabledReason</c>).</summary>
    public bool Active { get; init; }

    /// <summary>Why deliveries were stopped, when the service stopped them; null otherwise.</summary>
    public string? DisabledReason { get; init; }

    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
}

/// <summary>A delivery (one batch of events, or a test ping) and its attempts.</summary>
internal sealed class DeliveryView
{
    [TypeId(WebhookIds.Delivery)] public Guid Id { get; init; }

    /// <summary><c>batch</c> (feed events) or <c>ping</c> (a test).</summary>
    public string Kind { get; init; } = "";

    /// <summary>The delivered events' IDs (<c>evt_…</c>), in feed order; empty for a ping.</summary>
    public IReadOnlyList<string> EventIds { get; init; } = [];

    /// <summary><c>pending</c> (not yet delivered; retried at <c>nextAttemptAt</c>), <c>succeeded</c> or <c>failed</c> (given up).</summary>
    public string Status { get; init; } = "";

    public int Attempts { get; init; }
    public int? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public DateTime? NextAttemptAt { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? DeliveredAt { get; init; }
}

internal static class Subscriptions
{
    public const string ViewColumns = "id, url, events, description, active, disabled_reason, created_at, updated_at";

    private const string GetSql = $"SELECT {ViewColumns} FROM webhooks.subscriptions WHERE id = @Id AND workspace_id = @WorkspaceId";

    private const string DeliveryColumns = """
        id, kind, event_ids, status, attempts, last_status_code, last_error, next_attempt_at, created_at, delivered_at
        """;

    private const string GetDeliverySql = $"""
        SELECT {DeliveryColumns} FROM webhooks.deliveries WHERE id = @Id AND subscription_id = @SubscriptionId
        """;

    public static ApiProblemException NotFound() => ApiProblemException.NotFound("subscription_not_found", "Webhook subscription");

    public static Guid ParseOrNotFound(string id) => TypeId.TryParse(id, WebhookIds.Subscription, out var g) ? g : throw NotFound();

    public static async Task<SubscriptionView> RequireAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct,
        NpgsqlTransaction? tx = null) =>
        await conn.QuerySingleOrDefaultAsync<SubscriptionView>(new CommandDefinition(GetSql, new { Id = id, WorkspaceId = workspaceId }, tx,
            cancellationToken: ct)) ?? throw NotFound();

    internal sealed class DeliveryRow
    {
        public Guid Id { get; init; }
        public string Kind { get; init; } = "";
        public Guid[] EventIds { get; init; } = [];
        public string Status { get; init; } = "";
        public int Attempts { get; init; }
        public int? LastStatusCode { get; init; }
        public string? LastError { get; init; }
        public DateTime? NextAttemptAt { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime? DeliveredAt { get; init; }

        public DeliveryView View() => new()
        {
            Id = Id, Kind = Kind, EventIds = EventIds.Select(e => TypeId.Format(IdPrefix.Event, e)).ToList(), Status = Status,
            Attempts = Attempts, LastStatusCode = LastStatusCode, LastError = LastError, NextAttemptAt = NextAttemptAt,
            CreatedAt = CreatedAt, DeliveredAt = DeliveredAt,
        };
    }

    public static string SelectDeliveries => $"SELECT {DeliveryColumns} FROM webhooks.deliveries";

    public static async Task<DeliveryView?> DeliveryAsync(NpgsqlConnection conn, Guid subscriptionId, Guid id, CancellationToken ct) =>
        (await conn.QuerySingleOrDefaultAsync<DeliveryRow>(new CommandDefinition(GetDeliverySql, new { Id = id, SubscriptionId = subscriptionId },
            cancellationToken: ct)))?.View();

    /// <summary>Shape rules for the <c>events</c> list: a non-empty list of feed event types.</summary>
    public static string? EventsProblem(string[]? events)
    {
        if (events is null || events.Length == 0) return "events must list at least one event type.";
        var unknown = events.Where(e => !ChangeFeed.All.Contains(e)).ToList();
        return unknown.Count == 0 ? null : $"events: unknown type(s) {string.Join(", ", unknown)}; known: {string.Join(", ", ChangeFeed.All)}.";
    }
}
