using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Webhooks.Delivery;

namespace Leads.Tests.Webhooks;

/// <summary>The test host with private targets allowed, so subscriptions can point at an in-process receiver on loopback.</summary>
public sealed class WebhooksFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Webhooks:AllowPrivateTargets"] = "true" };
}

/// <summary>A clock the tests move forward (back-off waits, the 3-day give-up) instead of sleeping.</summary>
public sealed class ShiftedTime : TimeProvider
{
    public TimeSpan Offset { get; set; }
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}

/// <summary>A webhook receiver on a free loopback port: records every request and answers with the next scripted status (then 200).</summary>
public sealed class Receiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<int> _script = new();

    public sealed record Request(string Body, Dictionary<string, string> Headers, int Answered);

    public ConcurrentQueue<Request> Requests { get; } = new();
    public string Url { get; }

    /// <summary>Status for every request once the script is used up.</summary>
    public int Default { get; set; } = 200;

    public Receiver(params int[] statuses)
    {
        foreach (var s in statuses) _script.Enqueue(s);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch { return; }
            using var reader = new StreamReader(ctx.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            var status = _script.TryDequeue(out var s) ? s : Default;
            Requests.Enqueue(new Request(body, ctx.Request.Headers.AllKeys.ToDictionary(k => k!.ToLowerInvariant(), k => ctx.Request.Headers[k]!), status));
            ctx.Response.StatusCode = status;
            if (status is >= 300 and < 400) ctx.Response.Headers["Location"] = "http://127.0.0.1:1/elsewhere";
            ctx.Response.Close();
        }
    }

    /// <summary>The events of every batch received, in arrival order.</summary>
    public List<JsonObject> Events() => Requests.Where(r => r.Answered is >= 200 and < 300)
        .Select(r => JsonNode.Parse(r.Body)!.AsObject())
        .Where(b => b["type"]!.GetValue<string>() == "batch")
        .SelectMany(b => b["events"]!.AsArray().Select(e => e!.AsObject())).ToList();

    public void Dispose() => _listener.Close();
}

public static class WebhookTestKit
{
    public static async Task<(string Id, string Secret)> SubscribeAsync(this TestWorkspace ws, string url, params string[] events)
    {
        var r = await ws.Full.PostJsonAsync("/api/webhook-subscriptions", new { url, events = events.Length == 0 ? AllTypes : events });
        var body = await r.BodyAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToJsonString());
        return (body.Id(), body["secret"]!.GetValue<string>());
    }

    public static readonly string[] AllTypes = [.. Modules.Webhooks.Public.ChangeFeed.All];

    /// <summary>Runs the subscription's delivery job to its end (the test host runs no Hangfire server or dispatcher).</summary>
    public static async Task DeliverAsync(this ApiFactory api, string subscriptionId, TimeProvider? time = null)
    {
        Kernel.Ids.TypeId.TryParse(subscriptionId, "whs", out var id).ShouldBeTrue();
        var job = time is null
            ? api.Services.GetRequiredService<DeliverWebhooksJob>()
            : ActivatorUtilities.CreateInstance<DeliverWebhooksJob>(api.Services, time);
        await job.RunAsync(id, CancellationToken.None);
    }

    /// <summary>
    /// Waits until every event the workspace has committed is readable: the feed shows an event only once every
    /// transaction that started before it has ended, and the test cluster is shared with other test classes' writers.
    /// </summary>
    public static async Task FeedSettledAsync(this ApiFactory api, Guid workspaceId)
    {
        await using var db = await api.OpenDbAsync();
        for (var i = 0; i < 1200; i++)
        {
            if (await db.ExecuteScalarAsync<bool>(
                    "SELECT coalesce(max(tx_id) < pg_snapshot_xmin(pg_current_snapshot()), true) FROM webhooks.feed_events WHERE workspace_id = @W",
                    new { W = workspaceId })) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("A transaction in the test cluster stayed open for a minute; the feed could not settle.");
    }

    /// <summary>Follows the feed from <paramref name="after"/> to its current end.</summary>
    public static async Task<(List<JsonObject> Events, string Cursor)> ReadFeedAsync(this HttpClient c, string? after = null, int limit = 1000,
        string? types = null)
    {
        var all = new List<JsonObject>();
        var cursor = after;
        while (true)
        {
            var url = $"/api/events?limit={limit}" + (cursor is null ? "" : $"&after={cursor}") + (types is null ? "" : $"&types={types}");
            var page = await c.GetObjectAsync(url);
            var data = page["data"]!.AsArray().Select(e => e!.AsObject()).ToList();
            all.AddRange(data);
            var next = page["nextCursor"]!.GetValue<string>();
            if (data.Count == 0) return (all, next);
            cursor = next;
        }
    }
}
