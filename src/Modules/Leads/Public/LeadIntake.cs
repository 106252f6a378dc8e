using System.Collections.Concurrent;
using Kernel.Http;
using Kernel.Observability;
using Kernel.Security;
using Modules.Leads.Intake;
using Npgsql;

namespace Modules.Leads.Public;

/// <summary>What the intake rules need to know about where leads go: the workspace's phone region and whether a source is given.</summary>
public sealed record IntakeContext(string Region, bool HasSource);

/// <summary>One raw field set after the intake rules: the normalised lead and its new-lead score, or the field errors.</summary>
public sealed record PreparedLead(NormalizedLead? Lead, int Score, IReadOnlyDictionary<string, string> Errors);

/// <summary>Where a batch of leads goes and who creates them. <paramref name="ImportId"/> is set for an import's batches.</summary>
public sealed record IntakeTarget(Guid WorkspaceId, Guid? SourceId, string Channel, Actor Actor, Guid? ImportId = null);

/// <summary>
/// How a batch is written. <paramref name="SkipDuplicates"/>: a lead that matches is not written (an import's
/// <c>onDuplicate=skip</c>). <paramref name="DryRun"/>: nothing is written, only decided. <paramref name="UnwrittenKeys"/>: match
/// keys (<c>e:</c>email, <c>p:</c>phone) of earlier leads a dry run took in without writing; they count as existing leads.
/// </summary>
public sealed record IntakeWriteOptions(bool SkipDuplicates = false, bool DryRun = false, IReadOnlySet<string>? UnwrittenKeys = null);

/// <summary>
/// What a batch write did: per lead (in batch order) its ID, or null when it was skipped as a duplicate; how many were
/// written, flagged and skipped; and the match keys of the leads taken in (what a dry run's later batches must see).
/// </summary>
public sealed record IntakeBatchResult(IReadOnlyList<Guid?> Ids, int Written, int Duplicates, int Skipped, IReadOnlyList<string> TakenKeys)
{
    /// <summary>A lone lead's full state as inserted (the answer of <c>POST /api/leads</c>, with no read after the commit).</summary>
    internal LeadDetail? Created { get; init; }
}

/// <summary>
/// The one intake pipeline (ARCHITECTURE "One intake path"): the API, the inbound webhook, CSV import and edits run the
/// same two steps. <see cref="Prepare(IReadOnlyList{LeadInput}, IntakeContext)"/> is pure CPU work — normalise, validate,
/// score — over a batch of raw field sets, safe on any thread; <see cref="WriteBatchAsync"/> detects duplicates and
/// inserts the batch with its <c>duplicate_flagged</c> events inside the caller's transaction. Edits prepare their
/// patched field set with the same step and write an update of their own. See src/Modules/Leads/Intake/README.md.
/// </summary>
public sealed class LeadIntake
{
    private static readonly MonotonicUuidV7 Ids = MonotonicUuidV7.Shared;
    private readonly NpgsqlDataSource _db;
    private readonly IDuplicateDetector? _detector;
    private readonly IBulkDuplicateDetector? _bulk;
    private readonly IntakeBatcher _batcher;

    internal LeadIntake(NpgsqlDataSource db, IEnumerable<IDuplicateDetector> detectors, IEnumerable<IBulkDuplicateDetector> bulkDetectors, IntakeBatcher batcher)
    {
        _db = db;
        _detector = detectors.FirstOrDefault();
        _bulk = bulkDetectors.FirstOrDefault();
        _batcher = batcher;
    }

    // Each workspace's default region as last read: only a guess, which the fast path of CreateAsync checks in the same
    // statement that writes (a changed region falls back to the ordinary path, which reads it again). Bounded: cleared
    // when it outgrows RegionsKept workspaces.
    private const int RegionsKept = 10_000;
    private readonly ConcurrentDictionary<Guid, string> _regions = new();

    private void RememberRegion(Guid workspaceId, string region)
    {
        if (_regions.Count >= RegionsKept) _regions.Clear();
        _regions[workspaceId] = region;
    }

    /// <summary>
    /// Reads what <see cref="Prepare(LeadInput, IntakeContext)"/> needs about the workspace. With <paramref name="sourceId"/>,
    /// also checks in the same round trip that it names a live source of the workspace (else a 400 naming <c>sourceId</c>).
    /// </summary>
    public static async Task<IntakeContext> ContextAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid workspaceId, Guid? sourceId, CancellationToken ct)
    {
        var (region, sourceExists) = await Data.IntakeLookups.ContextAsync(conn, tx, workspaceId, sourceId, ct);
        if (sourceId is not null && !sourceExists)
            throw ApiProblemException.Validation("sourceId", "sourceId does not name a source of this workspace.");
        return new IntakeContext(region, sourceId is not null);
    }

    /// <summary>The intake rules over a batch of raw field sets, in order. CPU only.</summary>
    public static PreparedLead[] Prepare(IReadOnlyList<LeadInput> inputs, IntakeContext context)
    {
        var prepared = new PreparedLead[inputs.Count];
        for (var i = 0; i < prepared.Length; i++) prepared[i] = Prepare(inputs[i], context);
        return prepared;
    }

    /// <summary>The intake rules over one raw field set. CPU only.</summary>
    public static PreparedLead Prepare(LeadInput input, IntakeContext context)
    {
        var (lead, errors) = LeadRules.Normalize(input, context.Region);
        return lead is null
            ? new PreparedLead(null, 0, errors)
            : new PreparedLead(lead, LeadScoring.ForNewLead(lead, context.HasSource).Score, errors);
    }

    /// <summary>
    /// Writes prepared leads (each without errors) in order, inside the caller's transaction: duplicate detection — each
    /// lead sees the existing leads and the batch's earlier ones, exactly as if they had arrived one at a time — then
    /// the inserts and a <c>duplicate_flagged</c> event per flagged lead. A lone lead from the API or a webhook takes the
    /// per-person locks of single intake; any other batch takes the workspace's intake lock and goes set-based.
    /// </summary>
    public async Task<IntakeBatchResult> WriteBatchAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IntakeTarget target,
        IReadOnlyList<PreparedLead> leads, IntakeWriteOptions options, CancellationToken ct)
    {
        var accepted = new NormalizedLead[leads.Count];
        var scores = new int[leads.Count];
        for (var i = 0; i < leads.Count; i++)
        {
            accepted[i] = leads[i].Lead ?? throw new ArgumentException("Only leads that passed the intake rules can be written.", nameof(leads));
            scores[i] = leads[i].Score;
        }
        if (leads.Count == 1 && target.ImportId is null && !options.DryRun && !options.SkipDuplicates)
        {
            var lead = await SingleInsert.WriteAsync(conn, tx, _detector, target, accepted[0], scores[0], ct);
            return new IntakeBatchResult([lead.Id], 1, lead.IsDuplicate ? 1 : 0, 0, []) { Created = lead };
        }
        return await BulkInsert.WriteAsync(conn, tx, _bulk, Ids, target, accepted, scores, options, ct);
    }

    /// <summary>
    /// Creates one lead from the API or a webhook: prepare, then write, in one transaction; returns the full lead as
    /// committed. A field error is a 400 naming the field (<c>sourceId</c> when the source does not exist).
    /// </summary>
    public async Task<LeadDetail> CreateAsync(Guid workspaceId, LeadInput input, Guid? sourceId, string channel, Actor actor, CancellationToken ct)
    {
        // The fast path: a new person, prepared with the workspace's region as last seen, handed to the group commit
        // (IntakeBatcher), which writes it with the other new people pending on this node in one round trip that checks
        // each one's region and source and that it matches nobody, under the duplicate locks. Anything else — a repeat,
        // a changed region, a bad source, a field error — goes the ordinary way below, which decides it as before.
        if (_detector is not null && _regions.TryGetValue(workspaceId, out var knownRegion))
        {
            var fast = Prepare(input, new IntakeContext(knownRegion, sourceId is not null));
            if (fast.Lead is not null)
            {
                var created = await _batcher.TryWriteNewAsync(new IntakeTarget(workspaceId, sourceId, channel, actor), fast.Lead, fast.Score, knownRegion, ct);
                if (created is not null)
                {
                    LeadsTelemetry.LeadsCreated(channel);
                    return created;
                }
            }
        }
        await using var conn = await _db.OpenConnectionAsync(ct);
        var context = await ContextAsync(conn, null, workspaceId, sourceId, ct);
        RememberRegion(workspaceId, context.Region);
        var prepared = Prepare(input, context);
        if (prepared.Lead is null)
            throw new ApiProblemException(400, ProblemCodes.ValidationFailed, "Validation failed", "One or more fields are invalid; see errors.",
                prepared.Errors.ToDictionary(e => e.Key, e => new[] { e.Value }));
        await using var tx = await conn.BeginTransactionAsync(ct);
        var result = await WriteBatchAsync(conn, tx, new IntakeTarget(workspaceId, sourceId, channel, actor), [prepared], new IntakeWriteOptions(), ct);
        await tx.CommitAsync(ct);
        LeadsTelemetry.LeadsCreated(channel);
        return result.Created!;
    }
}
