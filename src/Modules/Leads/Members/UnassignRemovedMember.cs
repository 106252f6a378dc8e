using System.Data.Common;
using Dapper;
using Kernel.Ids;
using Kernel.Security;
using Modules.Access.Public;

namespace Modules.Leads.Members;

/// <summary>When a member is removed, their leads become unassigned, each with an <c>unassigned</c> event — set-based, in the removal's transaction.</summary>
internal sealed class UnassignRemovedMember : IMemberRemovalParticipant
{
    private const string Sql = """
        WITH changed AS (
            UPDATE leads.leads SET assigned_to = NULL, updated_at = now()
            WHERE workspace_id = @WorkspaceId AND assigned_to = @MemberId
            RETURNING id
        )
        INSERT INTO leads.events (id, workspace_id, lead_id, type, data, actor_type, actor_id, actor_name)
        SELECT leads.uuid_v7(), @WorkspaceId, id, 'unassigned',
               jsonb_build_object('from', @From::text, 'to', NULL, 'reason', 'member_removed'),
               @ActorType, @ActorId, @ActorName
        FROM changed
        """;

    public async Task OnMemberRemovedAsync(DbConnection conn, DbTransaction tx, Guid workspaceId, Guid memberId, Actor actor, CancellationToken ct)
    {
        var args = new
        {
            WorkspaceId = workspaceId,
            MemberId = memberId,
            From = TypeId.Format(IdPrefix.User, memberId),
            ActorType = actor.Type,
            ActorId = actor.Id,
            ActorName = actor.Name,
        };
        // A merge that held the duplicate (assigned to this member) when the first pass reached it may have handed the
        // assignment to its survivor, a row the first pass's snapshot saw unassigned; the pass waited for that merge to
        // commit, so a pass with a new snapshot sees the survivor. The first pass may find nothing at all (the duplicate
        // it waited for is gone), so there are always two; more only while passes still find leads.
        for (var pass = 0; pass < 10; pass++)
            if (await conn.ExecuteAsync(new CommandDefinition(Sql, args, tx, cancellationToken: ct)) == 0 && pass > 0) return;
    }
}
