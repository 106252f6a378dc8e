using System.Net;
using System.Text.Json.Nodes;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Platform;

/// <summary>Spec §8: a misspelt filter is a 400 naming it, never a wider list, count or export.</summary>
public sealed class UnknownQueryParameterTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Theory]
    [InlineData("/api/leads?stauts=new")]
    [InlineData("/api/leads/stats?stauts=new")]
    [InlineData("/api/leads/export?stauts=new")]
    [InlineData("/api/leads/imports?stauts=new")]
    [InlineData("/api/leads/{lead}?stauts=new")]
    [InlineData("/api/leads/{lead}/events?stauts=new")]
    [InlineData("/api/leads/{lead}/duplicates?stauts=new")]
    [InlineData("/api/tags?stauts=new")]
    [InlineData("/api/sources?stauts=new")]
    [InlineData("/api/users?stauts=new")]
    public async Task Every_GET_names_an_unknown_parameter(string url)
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Kept" });
        var p = await (await ws.Read.GetAsync(url.Replace("{lead}", lead.Id()))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        JsonNode.DeepEquals(p["errors"], JsonNode.Parse("""{"stauts":["unknown parameter"]}""")).ShouldBeTrue(p.ToJsonString());
    }

    [Fact]
    public async Task Each_unknown_parameter_is_named_and_known_ones_in_any_case_are_fine()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { firstName = "A" });
        var p = await (await ws.Read.GetAsync("/api/leads?status=new&stauts=new&assignedTo=unassigned&pg=2"))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        JsonNode.DeepEquals(p["errors"], JsonNode.Parse("""{"stauts":["unknown parameter"],"pg":["unknown parameter"]}""")).ShouldBeTrue(p.ToJsonString());
        // A known name in another case is that parameter, validated as usual.
        var bad = await (await ws.Read.GetAsync("/api/leads?sourceid=x")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        bad["errors"]!["sourceId"].ShouldNotBeNull(bad.ToJsonString());
        (await ws.Read.GetObjectAsync("/api/leads?STATUS=new&Limit=5&search=a"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task Authentication_comes_first()
    {
        (await api.Client().GetAsync("/api/leads?stauts=new")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }
}
