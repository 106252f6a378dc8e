using System.Text.Json.Nodes;
using Kernel.Http;
using Kernel.Ids;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.UpdateLead;

/// <summary>A patch applied to a locked lead: the lead as it will be, and what changed (the <c>lead_updated</c> data).</summary>
internal sealed class Edit
{
    private Edit(NormalizedLead lead, Guid? sourceId, string metadataJson, LeadRow after, bool keysChanged,
        Dictionary<string, object?> changes)
    {
        Lead = lead;
        SourceId = sourceId;
        MetadataJson = metadataJson;
        After = after;
        KeysChanged = keysChanged;
        Changes = changes;
    }

    public NormalizedLead Lead { get; }
    public Guid? SourceId { get; }
    public string MetadataJson { get; }

    /// <summary>The lead's scoring and grouping state after the edit.</summary>
    public LeadRow After { get; }

    /// <summary>Whether the email or phone match key changed (detection runs again).</summary>
    public bool KeysChanged { get; }

    /// <summary>field → {from, to}; metadata → {from: {key: old}, to: {key: new}} over the changed keys only.</summary>
    public Dictionary<string, object?> Changes { get; }

    public object UpdateArgs(Guid id) => new
    {
        Id = id,
        Lead.Email,
        Lead.EmailNorm,
        Lead.FirstName,
        Lead.LastName,
        Lead.Phone,
        Lead.PhoneE164,
        Lead.Company,
        SourceId,
        Metadata = MetadataJson,
    };

    /// <summary>Runs the intake rules over the lead as patched; a field error is a 400 naming the field.</summary>
    public static async Task<Edit> PrepareAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, LeadRow lead,
        Data.Extra extra, LeadPatch patch, CancellationToken ct)
    {
        string? Field(string name, string? stored) => patch.Text.TryGetValue(name, out var v) ? v : stored;
        var oldMetadata = JsonNode.Parse(extra.Metadata)!.AsObject();
        var newMetadata = patch.HasMetadata ? LeadPatch.MergePatch(oldMetadata, patch.Metadata) : null;
        var input = new LeadInput
        {
            Email = Field("email", lead.Email),
            FirstName = Field("firstName", lead.FirstName),
            LastName = Field("lastName", lead.LastName),
            Phone = Field("phone", lead.Phone),
            Company = Field("company", lead.Company),
            Metadata = newMetadata,
        };
        var sourceId = lead.SourceId;
        Guid? newSource = null;
        var errors = new Dictionary<string, string>();
        if (patch.HasSourceId)
        {
            if (patch.SourceId is null) sourceId = null;
            else if (!TypeId.TryParse(patch.SourceId, IdPrefix.Source, out var s)) errors["sourceId"] = "sourceId must be a source ID (src_…), a UUID or null.";
            else if (s != lead.SourceId) newSource = sourceId = s; // a new source must exist (checked with the context)
        }
        IntakeContext context;
        try { context = await LeadIntake.ContextAsync(conn, tx, workspaceId, newSource, ct); }
        catch (ApiProblemException e) when (e.Errors?.ContainsKey("sourceId") == true)
        {
            errors["sourceId"] = "sourceId does not name a source of this workspace.";
            context = await LeadIntake.ContextAsync(conn, tx, workspaceId, null, ct);
        }
        // The edit's own score comes from the lead's status (recomputed after the write); only the rules' lead is used.
        var prepared = LeadIntake.Prepare(input, context);
        foreach (var (field, message) in prepared.Errors) errors.TryAdd(field, message);
        var normalized = prepared.Lead;
        if (normalized is null || errors.Count > 0)
            throw new ApiProblemException(400, ProblemCodes.ValidationFailed, "Validation failed", "One or more fields are invalid; see errors.",
                errors.ToDictionary(e => e.Key, e => new[] { e.Value }));
        // An unpatched phone keeps the key it has (even if the workspace's region changed since it was stored).
        if (!patch.Text.ContainsKey("phone")) normalized = normalized with { PhoneE164 = lead.PhoneE164 };
        var metadataJson = newMetadata is null ? extra.Metadata : normalized.MetadataJson;
        var metadataKeys = newMetadata is null ? lead.MetadataKeys : normalized.MetadataKeys;

        var changes = new Dictionary<string, object?>(StringComparer.Ordinal);
        void Compare(string name, string? from, string? to)
        {
            if (!string.Equals(from, to, StringComparison.Ordinal)) changes[name] = new { from, to };
        }
        Compare("email", lead.Email, normalized.Email);
        Compare("firstName", lead.FirstName, normalized.FirstName);
        Compare("lastName", lead.LastName, normalized.LastName);
        Compare("phone", lead.Phone, normalized.Phone);
        Compare("company", lead.Company, normalized.Company);
        Compare("sourceId", Format(lead.SourceId), Format(sourceId));
        if (newMetadata is not null && MetadataChanges(oldMetadata, newMetadata) is { } md) changes["metadata"] = md;

        var after = lead with
        {
            Email = normalized.Email,
            FirstName = normalized.FirstName,
            LastName = normalized.LastName,
            Phone = normalized.Phone,
            PhoneE164 = normalized.PhoneE164,
            Company = normalized.Company,
            SourceId = sourceId,
            MetadataKeys = metadataKeys,
        };
        var keysChanged = normalized.EmailNorm != extra.EmailNorm || normalized.PhoneE164 != lead.PhoneE164;
        return new Edit(normalized, sourceId, metadataJson, after, keysChanged, changes);
    }

    private static string? Format(Guid? sourceId) => sourceId is { } s ? TypeId.Format(IdPrefix.Source, s) : null;

    private static object? MetadataChanges(JsonObject before, JsonObject after)
    {
        var from = new JsonObject();
        var to = new JsonObject();
        foreach (var key in before.Select(p => p.Key).Union(after.Select(p => p.Key)).Order(StringComparer.Ordinal))
        {
            var b = before[key];
            var a = after[key];
            if (JsonNode.DeepEquals(b, a)) continue;
            from[key] = b?.DeepClone();
            to[key] = a?.DeepClone();
        }
        return from.Count == 0 && to.Count == 0 ? null : new { from, to };
    }
}
