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

// The answer is read on the primary's stateless pool: a plain read needs no session reset (a reset sequence of seven
// statements per request on the ordinary pool), and it sees the committed lead.
internal sealed class Endpoint(LeadIntake intake, StatelessDataSource db) : Endpoint<Request, LeadDetail>
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
        var id = await intake.CreateAsync(caller.WorkspaceId, input, sourceId, LeadChannels.Api, Actor.ApiKey(caller), ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        var lead = await LeadReads.RequireDetailAsync(conn, caller.WorkspaceId, id, ct);
        HttpContext.Response.Headers.Location = $"/api/leads/{TypeId.Format(IdPrefix.Lead, id)}";
        await Send.ResponseAsync(lead.WithETag(HttpContext.Response), 201, ct);
    }
}
