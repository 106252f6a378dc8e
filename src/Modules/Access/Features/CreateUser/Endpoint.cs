using FastEndpoints;
using Microsoft.AspNetCore.Http;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Access.Data;
using Npgsql;

namespace Modules.Access.Features.CreateUser;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, UserView>
{
    public override void Configure()
    {
        Post("/api/users");
        Policies(AuthPolicies.AdminWrite);
        Description(b => b.ClearDefaultProduces(200).Produces<UserView>(201, "application/json").Produces<ProblemBody>(409, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Add a member to the workspace";
            s.Description = "Owner/admin with a full-scope key. 409 `email_taken` when the email is already a member.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        if (r.Role == MemberRoles.Owner && caller.Role != MemberRoles.Owner)
            throw new ApiProblemException(403, ProblemCodes.InsufficientRole, "Insufficient role", "Only an owner may add another owner.");
        await using var conn = await db.OpenConnectionAsync(ct);
        var user = await Data.InsertAsync(conn, caller.WorkspaceId, r.Name!.Trim(), r.Email!.Trim(), r.Role!, ct)
            ?? throw new ApiProblemException(409, "email_taken", "Email already in use",
                "A member with this email already exists in the workspace.");
        HttpContext.Response.Headers.Location = $"/api/users/{TypeId.Format(IdPrefix.User, user.Id)}";
        await Send.ResponseAsync(user, 201, ct);
    }
}
