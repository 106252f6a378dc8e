using Dapper;
using Kernel.Ids;
using Kernel.Security;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Detection;

/// <summary>
/// Spec §10's dismissed pairs ("not a duplicate"): two leads a user declared different people, stored once per
/// unordered pair in <c>duplicates.dismissed_pairs</c> (this module's table). Detection on every path reads them so
/// a dismissed pair is never flagged again; see <see cref="DismissalRule"/> for what that means for a new lead.
/// </summary>
internal static class DismissedPairs
{
    private const string PartnersSql = """
        SELECT lead_b FROM duplicates.dismissed_pairs WHERE lead_a = @Id
        UNION ALL
        SELECT lead_a FROM duplicates.dismissed_pairs WHERE lead_b = @Id
        """;

    // Both sides within the given leads; the primary key and the (lead_b, lead_a) index serve it.
    private const string AmongSql = """
        SELECT lead_a, lead_b FROM duplicates.dismissed_pairs WHERE lead_a = ANY(@Ids) AND lead_b = ANY(@Ids)
        """;

    private const string RecordSql = """
        INSERT INTO duplicates.dismissed_pairs (lead_a, lead_b, workspace_id) VALUES (least(@X::uuid, @Y::uuid), greatest(@X::uuid, @Y::uuid), @WorkspaceId)
        ON CONFLICT (lead_a, lead_b) DO NOTHING
        """;

    private const string ForgetSql = "DELETE FROM duplicates.dismissed_pairs WHERE lead_a = @Id OR lead_b = @Id";

    public static async Task<IReadOnlySet<Guid>> PartnersAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, CancellationToken ct) =>
        (await conn.QueryAsync<Guid>(new CommandDefinition(PartnersSql, new { Id = leadId }, tx, cancellationToken: ct))).ToHashSet();

    /// <summary>The dismissed pairs both of whose leads are among <paramref name="ids"/>, in either order (test both).</summary>
    public static async Task<IReadOnlySet<(Guid, Guid)>> AmongAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid[] ids, CancellationToken ct) =>
        (await conn.QueryAsync<(Guid, Guid)>(new CommandDefinition(AmongSql, new { Ids = ids }, tx, cancellationToken: ct))).ToHashSet();

    public static Task RecordAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid x, Guid y, CancellationToken ct)
        => conn.ExecuteAsync(new CommandDefinition(RecordSql, new { X = x, Y = y, WorkspaceId = workspaceId }, tx, cancellationToken: ct));

    private const string RepointedPartnersSql = "SELECT lead_id FROM duplicates.group_members WHERE primary_id = @Primary AND lead_id = ANY(@Partners)";

    /// <summary>
    /// After a merge or a delete moved a group under <paramref name="primaryId"/>: any lead of it dismissed against that
    /// primary leaves the group again (a primary, with a <c>duplicate_cleared</c> event) — a dismissed pair is never
    /// flagged, whatever moved it. One indexed lookup when the primary has no dismissed pairs (the usual case).
    /// </summary>
    public static async Task KeepApartAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid primaryId, Actor actor, CancellationToken ct)
    {
        var partners = await PartnersAsync(conn, tx, primaryId, ct);
        if (partners.Count == 0) return;
        var moved = await conn.QueryAsync<Guid>(new CommandDefinition(RepointedPartnersSql, new { Primary = primaryId, Partners = partners.ToArray() }, tx, cancellationToken: ct));
        foreach (var id in moved)
        {
            await Groups.GroupMembers.SetAsync(conn, tx, workspaceId, id, null, null, ct);
            await LeadEvents.AppendAsync(conn, tx, workspaceId, id, LeadEvents.DuplicateCleared,
                new { primaryId = TypeId.Format(IdPrefix.Lead, primaryId) }, actor, ct);
        }
    }

    /// <summary>Forgets every pair of a lead that is deleted for good.</summary>
    public static Task ForgetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(ForgetSql, new { Id = leadId }, tx, cancellationToken: ct));
}
