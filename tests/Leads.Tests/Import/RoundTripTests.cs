using System.Net;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Import;

/// <summary>Spec §3.6: "The file re-imports cleanly" — an export of one workspace imported into another gives identical lead fields.</summary>
public sealed class RoundTripTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task An_exported_file_reimports_into_another_workspace_with_identical_lead_fields()
    {
        var from = await api.CreateWorkspaceAsync();
        var to = await api.CreateWorkspaceAsync();
        await from.CreateLeadAsync(new { email = "Jane.Smith@Acme.com", firstName = "Jane", lastName = "Smith", phone = "+1 (415) 555-2671", company = "Acme, Inc." });
        await from.CreateLeadAsync(new { email = "bob@globex.com", firstName = "Bob \"The Builder\"", company = "Globex \"Ltd\", 50%" });
        await from.CreateLeadAsync(new { phone = "+44 20 7946 0958", lastName = "Ünïcödé 😀" });
        await from.CreateLeadAsync(new { firstName = "#hash", lastName = "semi;colon" });
        await from.CreateLeadAsync(new { email = "jane.smith@acme.com", firstName = "Janet" }); // a duplicate in both workspaces

        var export = await from.Read.GetAsync("/api/leads/export");
        export.StatusCode.ShouldBe(HttpStatusCode.OK);
        var file = await export.Content.ReadAsByteArrayAsync();
        var status = await to.ImportAsync(file, fileName: "export.csv");
        status.Str("status").ShouldBe("completed", status.ToJsonString());
        status.Long("created").ShouldBe(5);
        status.Long("failed").ShouldBe(0);

        const string fields = """
            SELECT coalesce(email, '') || '|' || coalesce(first_name, '') || '|' || coalesce(last_name, '') || '|' || coalesce(phone, '') || '|' ||
                   coalesce(company, '') || '|' || coalesce(email_norm, '') || '|' || coalesce(phone_e164, '')
            FROM leads.leads WHERE workspace_id = @Id ORDER BY 1
            """;
        await using var db = await api.OpenDbAsync();
        var original = (await db.QueryAsync<string>(fields, new { from.Id })).ToList();
        var reimported = (await db.QueryAsync<string>(fields, new { to.Id })).ToList();
        reimported.ShouldBe(original);
        // The export is newest first, so on re-import the newer of a duplicate pair arrives first and becomes
        // the primary: the pair is still one group, only which side is primary flips.
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND duplicate_of IS NOT NULL", new { to.Id })).ShouldBe(1);
    }
}
