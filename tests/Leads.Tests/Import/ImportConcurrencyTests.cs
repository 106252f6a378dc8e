using System.Net;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Import;

/// <summary>An import and API intake of the same people at the same moment never leave two unflagged leads of one person.</summary>
public sealed class ImportConcurrencyTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Import_racing_single_intake_of_the_same_people_yields_one_primary_per_person()
    {
        var ws = await api.CreateWorkspaceAsync();
        const int people = 40;
        var csv = "email,phone\n" + string.Concat(Enumerable.Range(0, people).Select(i => $"p{i}@race.io,+1415555{i:0000}\n"));
        var r = await ws.Full.PostAsync("/api/leads/import", ImportTestKit.Multipart(ImportTestKit.Utf8(csv)));
        var id = (await r.Content.ReadFromJsonObjectAsync()).Id();
        var job = api.Job();
        job.Options = job.Options with { ChunkRows = 10 };
        Task<HttpResponseMessage[]>? intakes = null;
        // While the second chunk's leads are written but not committed, the API takes in the same people: they must
        // wait for the import's workspace lock and then see its rows, rather than slip in unflagged beside them.
        job.TestHook = (point, chunk) =>
        {
            if (point != "before-commit" || chunk != 2) return;
            intakes = Task.WhenAll(Enumerable.Range(0, people).Select(i => ws.Full.PostJsonAsync("/api/leads", i % 2 == 0
                ? new { email = (string?)$"P{i}@race.io", phone = (string?)null }
                : new { email = (string?)null, phone = (string?)$"415-555-{i:0000}" })));
            Thread.Sleep(1500);
        };
        await api.RunImportAsync(id, job);
        var responses = await intakes!;
        responses.ShouldAllBe(x => x.StatusCode == HttpStatusCode.Created);

        await using var db = await api.OpenDbAsync();
        var unflaggedPerPerson = await db.QueryAsync<long>("""
            SELECT count(*) FILTER (WHERE duplicate_of IS NULL)
            FROM leads.leads WHERE workspace_id = @Id
            GROUP BY coalesce(email_norm, (SELECT l2.email_norm FROM leads.leads l2 WHERE l2.workspace_id = @Id AND l2.phone_e164 = leads.leads.phone_e164 AND l2.email_norm IS NOT NULL LIMIT 1))
            """, new { ws.Id });
        unflaggedPerPerson.Count().ShouldBe(people);
        unflaggedPerPerson.ShouldAllBe(n => n == 1);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(2 * people);
    }
}
