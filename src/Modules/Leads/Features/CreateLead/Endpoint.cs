using Microsoft.AspNetCore.Builder;
using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;

namespace Modules.Leads.Features.CreateLead;

// The answer comes from the insert itself (LeadIntake.CreateAsync): a new lead has no tags and no assignee, so no read
// after the commit is needed.
internal sealed class Endpoint(LeadIntake intake) : Endpoint<Request, LeadDetail>
{
    public override void Configure()
    {
        Post("/api/leads");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: false)));
        Policies(AuthPolicies.Write);
        Description(b => b.ClearDefaultProduces(200).Produces<LeadDetail>(201, "application/json"));
        Summary(s =>
        {
            s.Summary = "Create a lead";
            s.Description = "Runs the intake rules (normalisation, validation, duplicate detection, scoring). At least one of email, phone, " +
                            "firstName, lastName. A phone never refuses a lead (only its length, NUL or line breaks): it is stored as sent and the full lead's " +
                            "`phoneE164` holds its E.164 form when it reads as a possible number (`+`, `00` and `011` prefixes honoured, else the " +
                            "workspace's default region), else null. 201 with the full lead and `Location`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        Guid? sourceId = r.SourceId is null ? null : TypeId.TryParse(r.SourceId, IdPrefix.Source, out var s) ? s : null;
        var input = new LeadInput
        {
            Email = r.Email, FirstName = r.FirstName, LastName = r.LastName, Phone = r.Phone, Company = r.Company,
            Notes = r.Notes, Metadata = r.Metadata,
        };
        var lead = await intake.CreateAsync(caller.WorkspaceId, input, sourceId, LeadChannels.Api, Actor.ApiKey(caller), ct);
        HttpContext.Response.Headers.Location = $"/api/leads/{TypeId.Format(IdPrefix.Lead, lead.Id)}";
        await Send.ResponseAsync(lead.WithETag(HttpContext.Response), 201, ct);
    }
}
