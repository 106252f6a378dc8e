using Kernel.Security;
using Modules.Duplicates.Detection;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Groups;

/// <summary>Deleting a primary promotes its oldest duplicate to primary of the rest (spec §4); deleting a duplicate just removes it.</summary>
internal sealed class PromoteOnDelete : ILeadDeletionParticipant
{
    public async Task OnLeadDeletingAsync(NpgsqlConnection conn, NpgsqlTransaction tx, LeadRow lead, CancellationToken ct)
    {
        if (lead.DuplicateOf is not null) return;
        if (await GroupMembers.OldestMemberAsync(conn, tx, lead.Id, ct) is not { } heir) return;
        await GroupMembers.SetAsync(conn, tx, lead.WorkspaceId, heir, null, null, ct);
        await GroupMembers.RepointAsync(conn, tx, lead.WorkspaceId, lead.Id, heir, ct);
        // A sibling dismissed against the heir does not hang under it (spec §10).
        await DismissedPairs.KeepApartAsync(conn, tx, lead.WorkspaceId, heir, Actor.System, ct);
    }
}
