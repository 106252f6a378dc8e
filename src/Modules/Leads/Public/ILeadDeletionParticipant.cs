using Npgsql;

namespace Modules.Leads.Public;

/// <summary>
/// Lets another module act inside the delete transaction, after the lead is locked and before its row goes
/// (the Duplicates module promotes a deleted primary's oldest duplicate). Registered in DI by that module.
/// </summary>
public interface ILeadDeletionParticipant
{
    Task OnLeadDeletingAsync(NpgsqlConnection conn, NpgsqlTransaction tx, LeadRow lead, CancellationToken ct);
}
