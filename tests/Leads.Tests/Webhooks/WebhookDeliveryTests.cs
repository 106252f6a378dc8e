using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Modules.Webhooks.Public;
using StandardWebhooks;

namespace Leads.Tests.Webhooks;

/// <summary>Spec §13 delivery: signed batches in feed order, at least once, retried with back-off, disabled after 3 days.</summary>
public sealed class WebhookDeliveryTests(WebhooksFactory api) : IClassFixture<WebhooksFactory>
{
    private static void ShouldVerify(Receiver.Request r, string secret)
    {
        var headers = new HeaderDictionary();
        foreach (var (k, v) in r.Headers) headers[k] = v;
        Should.NotThrow(() => new StandardWebhook(secret).Verify(r.Body, headers));
    }

    [Fact]
    public async Task Every_event_type_is_delivered_in_feed_order_in_signed_batches()
    {
        using var receiver = new Receiver();
        var ws = await api.CreateWorkspaceAsync();
        var (sub, secret) = await ws.SubscribeAsync(receiver.Url);
        var a = await ws.CreateLeadAsync(new { email = "a@deliver.io" });
        var b = await ws.CreateLeadAsync(new { email = "b@deliver.io" });
        (await ws.Full.PutJsonAsync($"/api/leads/{a.Id()}/status", new { status = "qualified" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/merge", new { duplicateId = b.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await ws.ImportAsync("email\ni1@deliver.io\n");
        var export = await (await ws.Full.PostJsonAsync("/api/leads/exports", new { })).BodyAsync();
        await api.Services.GetRequiredService<Modules.Import.Jobs.ExportLeadsJob>().RunAsync(export.Uuid("exp"), CancellationToken.None);
        await using (var conn = await api.OpenDbAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await ChangeFeed.AppendAsync(conn, tx, ws.Id, ChangeFeed.BulkCompleted, null, new { bulkId = "blk_1" }, CancellationToken.None);
            await conn.ExecuteAsync("INSERT INTO leads.events (id, workspace_id, lead_id, type, actor_type) VALUES (gen_random_uuid(), @W, @L, 'unmerged', 'system')",
                new { W = ws.Id, L = a.Uuid() }, tx);
            await tx.CommitAsync();
        }
        (await ws.Full.DeleteAsync($"/api/leads/{a.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await api.FeedSettledAsync(ws.Id);

        await api.DeliverAsync(sub);

        receiver.Requests.ShouldNotBeEmpty();
        foreach (var r in receiver.Requests)
        {
            ShouldVerify(r, secret);
            r.Headers["webhook-id"].ShouldStartWith("whd_");
            r.Headers["content-type"].ShouldStartWith("application/json");
        }
        var delivered = receiver.Events();
        var (feed, _) = await ws.Read.ReadFeedAsync();
        delivered.Select(e => e.Id()).ShouldBe(feed.Select(e => e.Id()));
        delivered.Select(e => e["type"]!.GetValue<string>()).Distinct().Order().ShouldBe(ChangeFeed.All.Order());
        JsonNode.DeepEquals(delivered[0], feed[0]).ShouldBeTrue();

        var log = await ws.Read.GetObjectAsync($"/api/webhook-subscriptions/{sub}/deliveries");
        log["data"]!.AsArray().ShouldAllBe(d => d!["status"]!.GetValue<string>() == "succeeded" && d["attempts"]!.GetValue<int>() == 1);
        log["data"]!.AsArray().SelectMany(d => d!["eventIds"]!.AsArray().Select(x => x!.GetValue<string>())).Order()
            .ShouldBe(feed.Select(e => e.Id()).Order());
    }

    [Fact]
    public async Task Batches_hold_at_most_100_events_and_keep_feed_order()
    {
        using var receiver = new Receiver();
        var ws = await api.CreateWorkspaceAsync();
        var (sub, _) = await ws.SubscribeAsync(receiver.Url, ChangeFeed.LeadCreated);
        await ws.ImportAsync("email\n" + string.Concat(Enumerable.Range(0, 230).Select(i => $"bulk{i}@deliver.io\n")));
        await api.FeedSettledAsync(ws.Id);

        await api.DeliverAsync(sub);

        receiver.Requests.Select(r => JsonNode.Parse(r.Body)!["events"]!.AsArray().Count).ShouldBe([100, 100, 30]);
        var (feed, _) = await ws.Read.ReadFeedAsync(types: ChangeFeed.LeadCreated);
        receiver.Events().Select(e => e.Id()).ShouldBe(feed.Select(e => e.Id()));
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_gets_the_same_batch_on_the_third_attempt_after_the_back_off()
    {
        using var receiver = new Receiver(500, 503);
        var ws = await api.CreateWorkspaceAsync();
        var (sub, _) = await ws.SubscribeAsync(receiver.Url);
        await ws.CreateLeadAsync(new { email = "retry@deliver.io" });
        await api.FeedSettledAsync(ws.Id);
        var clock = new ShiftedTime();

        await api.DeliverAsync(sub, clock);
        var first = (await ws.Read.GetObjectAsync($"/api/webhook-subscriptions/{sub}/deliveries"))["data"]!.AsArray().Single()!;
        first["status"]!.GetValue<string>().ShouldBe("pending");
        first["attempts"]!.GetValue<int>().ShouldBe(1);
        first["lastStatusCode"]!.GetValue<int>().ShouldBe(500);
        var due = first["nextAttemptAt"]!.GetValue<DateTime>();
        (due - DateTime.UtcNow).ShouldBeInRange(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(6)); // 5 s ± 10 %

        await api.DeliverAsync(sub, clock); // not due yet: nothing is sent
        receiver.Requests.Count.ShouldBe(1);

        clock.Offset = TimeSpan.FromSeconds(6);
        await api.DeliverAsync(sub, clock);
        clock.Offset = TimeSpan.FromSeconds(6 + 34);
        await api.DeliverAsync(sub, clock);

        receiver.Requests.Select(r => r.Answered).ShouldBe([500, 503, 200]);
        receiver.Requests.Select(r => r.Headers["webhook-id"]).Distinct().Count().ShouldBe(1);
        var done = (await ws.Read.GetObjectAsync($"/api/webhook-subscriptions/{sub}/deliveries"))["data"]!.AsArray().Single()!;
        done["status"]!.GetValue<string>().ShouldBe("succeeded");
        done["attempts"]!.GetValue<int>().ShouldBe(3);
        done["nextAttemptAt"].ShouldBeNull();
    }

    [Fact]
    public async Task After_three_days_of_failures_the_subscription_is_disabled_with_the_reason_and_stops()
    {
        using var receiver = new Receiver { Default = 500 };
        var ws = await api.CreateWorkspaceAsync();
        var (sub, _) = await ws.SubscribeAsync(receiver.Url);
        await ws.CreateLeadAsync(new { email = "dead@deliver.io" });
        await api.FeedSettledAsync(ws.Id);
        var clock = new ShiftedTime();
        await api.DeliverAsync(sub, clock);
        clock.Offset = TimeSpan.FromDays(3) + TimeSpan.FromHours(4);
        await api.DeliverAsync(sub, clock);

        var view = await ws.Read.GetObjectAsync($"/api/webhook-subscriptions/{sub}");
        view["active"]!.GetValue<bool>().ShouldBeFalse();
        view["disabledReason"]!.GetValue<string>().ShouldContain("HTTP 500");
        var delivery = (await ws.Read.GetObjectAsync($"/api/webhook-subscriptions/{sub}/deliveries"))["data"]!.AsArray().Single()!;
        delivery["status"]!.GetValue<string>().ShouldBe("failed");

        receiver.Default = 200;
        await ws.CreateLeadAsync(new { email = "after@deliver.io" });
        await api.FeedSettledAsync(ws.Id);
        await api.DeliverAsync(sub, clock);
        receiver.Requests.Count.ShouldBe(2);

        // Resumed: the next batch goes out; the given-up one can be redelivered, under its own webhook-id.
        (await ws.Full.PatchJsonAsync($"/api/webhook-subscriptions/{sub}", new { active = true })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetObjectAsync($"/api/webhook-subscriptions/{sub}"))["disabledReason"].ShouldBeNull();
        await api.DeliverAsync(sub, clock);
        receiver.Events().Select(e => e["type"]!.GetValue<string>()).ShouldBe([ChangeFeed.LeadCreated]);
        var r = await ws.Full.PostAsync($"/api/webhook-subscriptions/{sub}/deliveries/{delivery.Id()}/redeliver", null);
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await r.BodyAsync())["status"]!.GetValue<string>().ShouldBe("pending");
        await api.DeliverAsync(sub, clock);
        receiver.Requests.Last().Headers["webhook-id"].ShouldBe(delivery.Id());
        receiver.Events().Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_subscription_never_receives_another_workspaces_events()
    {
        using var receiver = new Receiver();
        var mine = await api.CreateWorkspaceAsync();
        var theirs = await api.CreateWorkspaceAsync();
        var (sub, _) = await mine.SubscribeAsync(receiver.Url);
        var their = await theirs.CreateLeadAsync(new { email = "x@theirs.io" });
        var my = await mine.CreateLeadAsync(new { email = "y@mine.io" });
        await api.FeedSettledAsync(theirs.Id);
        await api.FeedSettledAsync(mine.Id);
        await api.DeliverAsync(sub);
        receiver.Events().Select(e => e["leadId"]!.GetValue<string>()).ShouldBe([my.Id()]);
        receiver.Requests.ShouldAllBe(r => !r.Body.Contains(their.Id()));
    }

    [Fact]
    public async Task Test_ping_is_signed_with_the_current_secret_and_logged()
    {
        using var receiver = new Receiver();
        var ws = await api.CreateWorkspaceAsync();
        var (sub, oldSecret) = await ws.SubscribeAsync(receiver.Url);
        var rotated = await (await ws.Full.PostAsync($"/api/webhook-subscriptions/{sub}/rotate-secret", null)).BodyAsync();
        var secret = rotated["secret"]!.GetValue<string>();
        secret.ShouldStartWith("whsec_");
        secret.ShouldNotBe(oldSecret);

        var ping = await (await ws.Full.PostAsync($"/api/webhook-subscriptions/{sub}/test", null)).BodyAsync();
        ping["kind"]!.GetValue<string>().ShouldBe("ping");
        ping["status"]!.GetValue<string>().ShouldBe("succeeded");
        ping["lastStatusCode"]!.GetValue<int>().ShouldBe(200);
        var request = receiver.Requests.Single();
        JsonNode.Parse(request.Body)!["type"]!.GetValue<string>().ShouldBe("ping");
        ShouldVerify(request, secret);
        var headers = new HeaderDictionary();
        foreach (var (k, v) in request.Headers) headers[k] = v;
        Should.Throw<Exception>(() => new StandardWebhook(oldSecret).Verify(request.Body, headers));
        (await (await ws.Full.PostAsync($"/api/webhook-subscriptions/{sub}/deliveries/{ping.Id()}/redeliver", null))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "ping_not_redeliverable")).ShouldNotBeNull();
    }

    [Fact]
    public async Task A_redirect_is_a_failed_attempt_not_followed()
    {
        using var receiver = new Receiver(302);
        var ws = await api.CreateWorkspaceAsync();
        var (sub, _) = await ws.SubscribeAsync(receiver.Url);
        var ping = await (await ws.Full.PostAsync($"/api/webhook-subscriptions/{sub}/test", null)).BodyAsync();
        ping["status"]!.GetValue<string>().ShouldBe("failed");
        ping["lastStatusCode"]!.GetValue<int>().ShouldBe(302);
        receiver.Requests.Count.ShouldBe(1);
    }
}
