using Modules.Duplicates.Detection;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Groups;

/// <summary>A lead deleted for good takes its dismissed pairs (spec §10) with it, in the delete's transaction.</summary>
internal sealed class ForgetDismissalsOnDelete : ILeadDeletionParticipant
{
    public Task OnLeadDeletingAsync(NpgsqlConnection conn, NpgsqlTransaction tx, LeadRow lead, CancellationToken ct) =>
        DismissedPairs.ForgetAsync(conn, tx, lead.Id, ct);
}
