using System.Net;
using System.Text;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Platform;

/// <summary>The contract checker every test client carries must itself refuse what the document does not allow.</summary>
public sealed class OpenApiContractTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private async Task<OpenApiContract> ContractAsync() => await OpenApiContract.GetAsync(api.Server.CreateHandler());

    private static HttpResponseMessage Response(HttpStatusCode status, string? json, string mediaType = "application/json", Action<HttpResponseMessage>? headers = null)
    {
        var r = new HttpResponseMessage(status);
        if (json is not null) r.Content = new StringContent(json, Encoding.UTF8, mediaType);
        r.Headers.CacheControl = new() { NoStore = true };
        r.Headers.Add("RateLimit-Limit", "1200");
        r.Headers.Add("RateLimit-Remaining", "1199");
        r.Headers.Add("RateLimit-Reset", "60");
        headers?.Invoke(r);
        return r;
    }

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, "http://localhost" + path);

    [Fact]
    public async Task A_lead_with_metadata_as_an_object_passes_and_one_with_a_key_value_list_fails()
    {
        var contract = await ContractAsync();
        var lead = await (await (await api.CreateWorkspaceAsync()).Full.PostJsonAsync("/api/leads",
            new { email = "a@example.com", metadata = new { plan = "pro" } })).Content.ReadAsStringAsync();
        static void Tagged(HttpResponseMessage r) => r.Headers.ETag = new("\"42\"");
        await contract.CheckAsync(Get("/api/leads/lead_01jdq3v5x8e9r7a2b4c6d8f0gh"), Response(HttpStatusCode.OK, lead, headers: Tagged));

        var broken = lead.Replace("\"metadata\":{\"plan\":\"pro\"}", "\"metadata\":[{\"key\":\"plan\",\"value\":\"pro\"}]", StringComparison.Ordinal);
        broken.ShouldNotBe(lead);
        var e = await Should.ThrowAsync<OpenApiContractException>(() => contract.CheckAsync(Get("/api/leads/lead_01jdq3v5x8e9r7a2b4c6d8f0gh"), Response(HttpStatusCode.OK, broken, headers: Tagged)));
        e.Message.ShouldContain("metadata");
    }

    [Fact]
    public async Task An_undeclared_field_an_unknown_status_or_a_missing_required_header_fails()
    {
        var contract = await ContractAsync();
        await Should.ThrowAsync<OpenApiContractException>(() => contract.CheckAsync(Get("/api/users"), Response(HttpStatusCode.OK, """[{"surprise":1}]""")));
        await Should.ThrowAsync<OpenApiContractException>(() => contract.CheckAsync(Get("/api/users"), Response(HttpStatusCode.Gone, null)));
        var noCacheControl = Response(HttpStatusCode.OK, "[]");
        noCacheControl.Headers.CacheControl = null;
        await Should.ThrowAsync<OpenApiContractException>(() => contract.CheckAsync(Get("/api/users"), noCacheControl));
        await contract.CheckAsync(Get("/api/users"), Response(HttpStatusCode.OK, "[]"));
    }

    [Fact]
    public async Task A_problem_must_be_a_problem()
    {
        var contract = await ContractAsync();
        await Should.ThrowAsync<OpenApiContractException>(() => contract.CheckAsync(Get("/api/leads/lead_01jdq3v5x8e9r7a2b4c6d8f0gh"),
            Response(HttpStatusCode.NotFound, """{"error":"not found"}""", "application/problem+json")));
        await Should.ThrowAsync<OpenApiContractException>(() => contract.CheckAsync(Get("/api/leads/lead_01jdq3v5x8e9r7a2b4c6d8f0gh"),
            Response(HttpStatusCode.NotFound, """{"type":"https://x","title":"Not found","status":404,"code":"lead_not_found"}""", "application/json")));
    }
}
