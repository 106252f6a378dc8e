using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Kernel.Http;
using Modules.Leads.Webhooks;

namespace Leads.Tests.Sources;

/// <summary>The mapping rules on their own, without HTTP: which payload field fills which lead field.</summary>
public sealed class WebhookPayloadTests
{
    private static MappedPayload Map(string payload, string mappings = "{}") =>
        WebhookPayload.Map(WebhookPayload.Parse(Encoding.UTF8.GetBytes(payload)),
            System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(mappings)!);

    [Fact]
    public void Mapped_names_beat_direct_names_and_the_first_non_empty_of_equals_wins()
    {
        var m = Map("""{"email":"d@x.io","a":"","b":"b@x.io","c":"c@x.io"}""", """{"a":"email","b":"email","c":"email"}""");
        m.Input.Email.ShouldBe("b@x.io");
        m.FilledFrom["email"].ShouldBe("b");
        JsonNode.DeepEquals(m.Input.Metadata, JsonNode.Parse("""{"c":"c@x.io","email":"d@x.io"}""")).ShouldBeTrue(m.Input.Metadata!.ToJsonString());
    }

    [Fact]
    public void Notes_are_reachable_only_through_a_mapping()
    {
        Map("""{"notes":"n"}""").Input.Notes.ShouldBeNull();
        Map("""{"notes":"n"}""").Input.Metadata!["notes"]!.GetValue<string>().ShouldBe("n");
        Map("""{"notes":"n"}""", """{"notes":"notes"}""").Input.Notes.ShouldBe("n");
    }

    [Fact]
    public void Numbers_keep_their_exact_text_and_nulls_are_absent()
    {
        var m = Map("""{"phone":4.4207946E10,"company":null,"lastName":007}""".Replace("007", "7"));
        m.Input.Phone.ShouldBe("4.4207946E10");
        m.Input.Company.ShouldBeNull();
        m.Input.LastName.ShouldBe("7");
        m.Input.Metadata!.Count.ShouldBe(0);
    }

    [Fact]
    public void Field_errors_from_intake_are_refiled_under_the_senders_names()
    {
        var m = Map("""{"mail":"bad","phone":"1"}""", """{"mail":"email"}""");
        var e = m.Rename(new ApiProblemException(400, ProblemCodes.ValidationFailed, "Validation failed", null,
            new Dictionary<string, string[]> { ["email"] = ["bad"], ["phone"] = ["bad"], ["body"] = ["x"] }));
        e.Errors!.Keys.ShouldBe(["mail", "phone", "body"]);
    }

    [Fact]
    public void A_utf8_bom_is_ignored()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("""{"email":"bom@x.io"}""")).ToArray();
        WebhookPayload.Parse(bytes)["email"]!.GetValue<string>().ShouldBe("bom@x.io");
    }

    [Fact]
    public void Deeply_nested_bodies_are_refused_as_invalid_json()
    {
        var deep = "{\"a\":" + string.Concat(Enumerable.Repeat("[", 100)) + string.Concat(Enumerable.Repeat("]", 100)) + "}";
        var e = Should.Throw<ApiProblemException>(() => WebhookPayload.Parse(Encoding.UTF8.GetBytes(deep)));
        e.Status.ShouldBe((int)HttpStatusCode.BadRequest);
        e.Code.ShouldBe(ProblemCodes.InvalidJson);
    }
}
