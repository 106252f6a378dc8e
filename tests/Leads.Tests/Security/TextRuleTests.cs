using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Http;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Security;

/// <summary>The one text rule (Kernel/Http/TextRule) and the findings of issue #16 item 7 it closes.</summary>
public sealed class TextRuleTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Theory]
    [InlineData("plain", true)]
    [InlineData("line\nbreak\ttab", true)]
    [InlineData("Zoë 👩‍👩‍👧 مرحبا", true)]
    [InlineData("می‌خواهم", true)]           // ZWNJ inside Persian
    [InlineData("a\0b", false)]
    [InlineData("v\u200Bip", false)]         // zero-width space
    [InlineData("v\u200Cip", false)]         // ZWNJ between ASCII letters: a look-alike
    [InlineData("\u202Egnp.exe", false)]     // bidi override
    [InlineData("\u2066x\u2069", false)]     // bidi isolate
    [InlineData("\uFEFFbom", false)]
    [InlineData("soft\u00ADhyphen", false)]
    [InlineData("a\u2028b", false)]
    [InlineData("bell\u0007", false)]
    [InlineData("c1\u0085", false)]
    [InlineData("non\uFFFEchar", false)]
    public void The_rule_accepts_printable_text_and_refuses_controls_and_invisible_formatting(string s, bool ok) =>
        (TextRule.Violation(s, "f") is null).ShouldBe(ok, s);

    [Fact]
    public void Normalisation_to_NFC_matches_the_Unicode_data_for_every_decomposable_character_and_mark_order()
    {
        // Generated with Python's unicodedata: NFD of every character with a canonical decomposition, plus mark
        // reordering, Hangul, singletons and composition exclusions; each paired with its NFC.
        var vectors = System.Text.Json.JsonSerializer.Deserialize<string[][]>(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Security", "nfc-vectors.json")))!;
        vectors.Length.ShouldBeGreaterThan(2000);
        var wrong = vectors.Where(v => TextRule.Normalize(v[0]) != v[1]).Select(v => System.Text.Json.JsonSerializer.Serialize(v)).Take(5).ToList();
        wrong.ShouldBeEmpty();
        var ascii = "plain ascii";
        TextRule.Normalize(ascii).ShouldBeSameAs(ascii);
    }

    [Fact]
    public void Unpaired_surrogates_are_refused()
    {
        TextRule.Violation("lone " + (char)0xD800 + " high", "f").ShouldNotBeNull();
        TextRule.Violation("lone " + (char)0xDC00 + " low", "f").ShouldNotBeNull();
        TextRule.Violation("pair 😀", "f").ShouldBeNull();
    }

    [Fact]
    public async Task Look_alike_tag_names_become_one_tag_or_are_refused()
    {
        var ws = await api.CreateWorkspaceAsync();
        var a = await ws.CreateLeadAsync(new { firstName = "A" });
        var b = await ws.CreateLeadAsync(new { firstName = "B" });
        var nfc = await (await ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/tags", new { name = "Caf\u00E9" })).BodyAsync();
        var nfd = await (await ws.Full.PostJsonAsync($"/api/leads/{b.Id()}/tags", new { name = "Cafe\u0301" })).BodyAsync();
        nfd["id"]!.GetValue<string>().ShouldBe(nfc["id"]!.GetValue<string>());
        nfd["name"]!.GetValue<string>().ShouldBe("Caf\u00E9");
        foreach (var lookalike in new[] { "Caf\u00E9\u200B", "\u202ECaf\u00E9", "Ca\u200Df\u00E9", "\u2066Caf\u00E9\u2069" })
        {
            var r = await ws.Full.PostJsonAsync($"/api/leads/{b.Id()}/tags", new { name = lookalike });
            (await r.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))["errors"]!["name"].ShouldNotBeNull(lookalike);
        }
        (await api.ScalarAsync<long>("SELECT count(*) FROM tags.tags WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
    }

    [Fact]
    public async Task NUL_in_a_user_name_email_key_label_source_name_or_field_mapping_is_a_400_naming_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        async Task Refused(string url, object body, string field, Func<HttpClient, string, HttpContent, Task<HttpResponseMessage>>? send = null)
        {
            var content = Http.Json(body);
            var r = await (send ?? ((c, u, b) => c.PostAsync(u, b)))(ws.Full, url, content);
            (await r.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))["errors"]![field].ShouldNotBeNull(url);
        }
        await Refused("/api/users", new { name = "N\0", email = "n@x.io", role = "member" }, "name");
        await Refused("/api/users", new { name = "N", email = "n\0@x.io", role = "member" }, "email");
        await Refused("/api/api-keys", new { label = "k\0", scope = "read" }, "label");
        await Refused("/api/sources", new { name = "s\0" }, "name");
        await Refused("/api/sources", new { name = "s", fieldMappings = new Dictionary<string, string> { ["email"] = "e\0" } }, "fieldMappings");
        await Refused("/api/sources", new { name = "s", fieldMappings = new Dictionary<string, string> { ["em\0ail"] = "E" } }, "fieldMappings");
        var source = await (await ws.Full.PostJsonAsync("/api/sources", new { name = "ok" })).BodyAsync();
        await Refused($"/api/sources/{source.Id()}", new { name = "s\0" }, "name", (c, u, b) => c.PutAsync(u, b));
        await Refused($"/api/sources/{source.Id()}", new { fieldMappings = new Dictionary<string, string> { ["email"] = "\u200B" } }, "fieldMappings",
            (c, u, b) => c.PutAsync(u, b));
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.sources WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
        (await api.ScalarAsync<long>("SELECT count(*) FROM access.members WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
    }

    [Fact]
    public async Task Text_in_decomposed_form_is_stored_composed()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Zoe\u0308", notes = "cafe\u0301" });
        lead["firstName"]!.GetValue<string>().ShouldBe("Zo\u00EB");
        (await api.ScalarAsync<string>("SELECT notes FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() })).ShouldBe("caf\u00E9");
        (await ws.Read.GetObjectAsync("/api/leads?search=zo%C3%AB"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(1);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("{\"firstName\": []}")]
    [InlineData("{\"metadata\": []}")]
    public async Task A_body_of_the_wrong_JSON_shape_is_a_400_without_dotnet_type_names(string json)
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostAsync("/api/leads", Http.Json(json));
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.BadRequest, text);
        text.ShouldNotContain("System.");
        text.ShouldNotContain("Modules.", customMessage: text);
        text.ShouldNotContain("Request");
        text.ShouldNotContain("JsonObject");
    }

    [Fact]
    public async Task Metadata_is_measured_in_utf8_bytes_not_escaped_json()
    {
        var ws = await api.CreateWorkspaceAsync();
        // 30,000 × 'é' = 60,000 UTF-8 bytes (180,000 when escaped as \u00e9), 10,000 emoji = 40,000 bytes: under 64 KB.
        var ok = await ws.Full.PostJsonAsync("/api/leads", new { firstName = "M", metadata = new { text = new string('\u00E9', 30_000) } });
        ok.StatusCode.ShouldBe(HttpStatusCode.Created, await ok.Content.ReadAsStringAsync());
        var emoji = string.Concat(Enumerable.Repeat("😀", 10_000));
        (await ws.Full.PostJsonAsync("/api/leads", new { firstName = "E", metadata = new { text = emoji } })).StatusCode.ShouldBe(HttpStatusCode.Created);
        // 34,000 × 'é' = 68,000 bytes: over.
        var over = await ws.Full.PostJsonAsync("/api/leads", new { firstName = "O", metadata = new { text = new string('\u00E9', 34_000) } });
        (await over.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))["errors"]!["metadata"].ShouldNotBeNull();
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(2);
    }

    [Fact]
    public async Task A_merge_whose_notes_together_pass_the_limit_is_a_422_and_changes_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { email = "s@x.io" });
        var d = await ws.CreateLeadAsync(new { email = "d@x.io" });
        await using (var db = await api.OpenDbAsync())
        {
            await db.ExecuteAsync("UPDATE leads.leads SET notes = repeat('s', 600000) WHERE id = @Id", new { Id = s.Uuid() });
            await db.ExecuteAsync("UPDATE leads.leads SET notes = repeat('d', 400000) WHERE id = @Id", new { Id = d.Uuid() });
        }
        var r = await ws.Full.PostJsonAsync($"/api/leads/{s.Id()}/merge", new { duplicateId = d.Id() });
        await r.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "merge_notes_too_long");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(2);

        (await ws.Full.PutJsonAsync($"/api/leads/{d.Id()}/notes", new { notes = "short" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PostJsonAsync($"/api/leads/{s.Id()}/merge", new { duplicateId = d.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await api.ScalarAsync<int>("SELECT char_length(notes) FROM leads.leads WHERE id = @Id", new { Id = s.Uuid() })).ShouldBe(600_000 + 2 + 5);
    }
}
