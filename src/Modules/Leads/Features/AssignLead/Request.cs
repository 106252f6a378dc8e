using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.AssignLead;

internal sealed class Request
{
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>A member of this workspace (<c>usr_…</c>), or null to unassign.</summary>
    public string? UserId { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r.UserId).Must(u => TypeId.TryParse(u, IdPrefix.User, out _))
            .When(r => r.UserId is not null).WithMessage("userId must be a user ID (usr_…), a UUID or null.");
    }
}
