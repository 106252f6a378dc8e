using Dapper;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Webhooks.Delivery;

namespace Leads.Tests.Webhooks;

/// <summary>Spec §13 retention: the hourly job deletes feed events older than <c>Webhooks:RetentionDays</c> (30), nothing younger.</summary>
public sealed class WebhookRetentionTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Feed_events_past_the_retention_are_deleted_and_younger_ones_kept()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { email = "recent@retention.io" }); // its lead.created: now
        await using var db = await api.OpenDbAsync();
        // More than one slice of the job's deletes (10,000) past the retention, and events on either side of the cutoff.
        await db.ExecuteAsync("""
            INSERT INTO webhooks.feed_events (workspace_id, id, type, data, occurred_at)
            SELECT @Ws, gen_random_uuid(), 'lead.updated', jsonb_build_object('n', g), now() - interval '31 days' - g * interval '1 second'
            FROM generate_series(1, 10050) g;
            INSERT INTO webhooks.feed_events (workspace_id, id, type, data, occurred_at) VALUES
                (@Ws, gen_random_uuid(), 'lead.updated', '{"kept": "29 days"}', now() - interval '29 days'),
                (@Ws, gen_random_uuid(), 'lead.updated', '{"gone": "30 days and a minute"}', now() - interval '30 days 1 minute');
            """, new { Ws = ws.Id });

        await api.Services.GetRequiredService<TrimWebhooksJob>().RunAsync(CancellationToken.None);

        var left = (await db.QueryAsync<(string Type, string Data)>(
            "SELECT type, data::text FROM webhooks.feed_events WHERE workspace_id = @Ws ORDER BY occurred_at", new { Ws = ws.Id })).ToList();
        left.Count.ShouldBe(2, string.Join("; ", left));
        left[0].Data.ShouldContain("29 days");
        left[1].Type.ShouldBe("lead.created");
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM webhooks.feed_events WHERE occurred_at < now() - interval '30 days'")).ShouldBe(0);
    }
}
