using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.UpdateLeadNotes;

internal sealed class Request
{
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>Up to 10,000 characters; <c>""</c> or null clears the notes.</summary>
    public string? Notes { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Notes).MaximumLength(LeadLimits.Notes).WithMessage($"notes must be at most {LeadLimits.Notes} characters.");
            RuleFor(r => r.Notes).Must(n => !n!.Contains('\0')).When(r => r.Notes is not null).WithMessage("notes must not contain NUL characters.");
        }
    }
}
