using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Kernel.Observability;

/// <summary>
/// The service's own metrics and spans (spec §14), under one name the host subscribes to. Prometheus names: a counter
/// <c>leads.created</c> is scraped as <c>leads_created_total</c>. Labels carry no personal data and no IDs.
/// </summary>
public static class LeadsTelemetry
{
    public const string Name = "Leads";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Created = Meter.CreateCounter<long>("leads.created", "{lead}", "Leads written, by intake channel (api, webhook, import).");
    private static readonly Counter<long> ImportRows = Meter.CreateCounter<long>("leads.import.rows", "{row}", "CSV rows imported, by outcome (created, duplicate, skipped, failed, dry_run).");
    private static readonly Histogram<int> IntakeBatchSize = Meter.CreateHistogram<int>("leads.intake.batch_size", "{lead}",
        "New leads per group-commit batch of single intake (API and inbound webhook): one statement and one transaction each.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
    private static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>("leads.webhook.deliveries", "{delivery}", "Outbound webhook deliveries, by outcome.");

    /// <summary>Call after the transaction that wrote them committed.</summary>
    public static void LeadsCreated(string channel, long count = 1)
    {
        if (count > 0) Created.Add(count, new KeyValuePair<string, object?>("channel", channel));
    }

    /// <summary>A group-commit batch of single intake about to be written.</summary>
    public static void IntakeBatch(int leads) => IntakeBatchSize.Record(leads);

    public static void ImportRowsProcessed(string outcome, long count)
    {
        if (count > 0) ImportRows.Add(count, new KeyValuePair<string, object?>("outcome", outcome));
    }

    public static void WebhookDelivered(string outcome) => WebhookDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
