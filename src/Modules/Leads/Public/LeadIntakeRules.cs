using Modules.Leads.Data;
using Npgsql;

namespace Modules.Leads.Public;

/// <summary>What the intake rules need to know about where leads go: the workspace's phone region and whether a source is given.</summary>
public sealed record IntakeContext(string Region, bool HasSource);

/// <summary>One raw field set after the intake rules: the normalised lead and its new-lead score, or the field errors.</summary>
public sealed record PreparedLead(NormalizedLead? Lead, int Score, IReadOnlyDictionary<string, string> Errors);

/// <summary>
/// The intake rules as every path runs them (API, webhook, CSV import): <see cref="ContextAsync"/> reads the workspace's
/// settings once, <see cref="Prepare"/> is the pure, CPU-only step — normalise, validate, score — for one raw field set,
/// safe to run on any thread over whole batches. Duplicate detection and the write follow in the caller's transaction.
/// </summary>
public static class LeadIntakeRules
{
    public static async Task<IntakeContext> ContextAsync(NpgsqlConnection conn, Guid workspaceId, Guid? sourceId, CancellationToken ct) =>
        new(await IntakeLookups.RegionAsync(conn, null, workspaceId, ct), sourceId is not null);

    public static PreparedLead Prepare(LeadInput input, IntakeContext context)
    {
        var (lead, errors) = LeadRules.Normalize(input, context.Region);
        return lead is null
            ? new PreparedLead(null, 0, errors)
            : new PreparedLead(lead, LeadScoring.ForNewLead(lead, context.HasSource).Score, errors);
    }
}
