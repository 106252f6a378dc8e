using System.Data.Common;
using Kernel.Security;

namespace Modules.Access.Public;

/// <summary>
/// Lets another module react, inside the same transaction, when a member is removed (the Leads module
/// unassigns that member's leads and records an <c>unassigned</c> event each). Registered in DI by that module.
/// </summary>
public interface IMemberRemovalParticipant
{
    Task OnMemberRemovedAsync(DbConnection conn, DbTransaction tx, Guid workspaceId, Guid memberId, Actor actor, CancellationToken ct);
}
