using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.UpdateLeadStatus;

internal sealed class Request
{
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>new, contacted, qualified, converted or closed.</summary>
    [OneOf(typeof(LeadStatuses))] public string? Status { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r.Status).Must(s => LeadStatuses.All.Contains(s))
            .WithErrorCode("invalid_status").WithMessage($"status must be one of: {string.Join(", ", LeadStatuses.All)}.");
    }
}
