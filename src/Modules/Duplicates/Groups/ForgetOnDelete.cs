using Modules.Duplicates.Detection;
using Modules.Duplicates.Merges;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Groups;

/// <summary>
/// A lead deleted for good takes this module's state about it along, in the delete's transaction: its dismissed pairs
/// (spec §10), its group membership and the merge records of the leads merged into it (their rows and events go with it, so none can come back).
/// </summary>
internal sealed class ForgetOnDelete : ILeadDeletionParticipant
{
    public async Task OnLeadDeletingAsync(NpgsqlConnection conn, NpgsqlTransaction tx, LeadRow lead, CancellationToken ct)
    {
        if (lead.DuplicateOf is not null) await GroupMembers.ForgetAsync(conn, tx, lead.Id, ct);
        await DismissedPairs.ForgetAsync(conn, tx, lead.Id, ct);
        await MergeRecords.ForgetAsync(conn, tx, lead.Id, ct);
    }
}
