using System.Text;
using System.Text.Json.Nodes;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Import;

/// <summary>The CSV dialects and malformations of spec §3.7, each through upload and the job.</summary>
public sealed class CsvFormatTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static string[] Emails(JsonObject[] leads) => leads.Select(l => l["email"]!.GetValue<string>()).ToArray();

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData("\r")]
    public async Task Line_endings_CRLF_LF_and_CR_only_all_read(string eol)
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync(string.Join(eol, "email,firstName", "a@acme.io,Ann", "b@acme.io,Bob", "c@acme.io,Cy") + eol);
        s.Str("status").ShouldBe("completed", s.ToJsonString());
        s.Long("created").ShouldBe(3);
        Emails(await ws.LeadsAsync()).ShouldBe(["a@acme.io", "b@acme.io", "c@acme.io"]);
    }

    [Theory]
    [InlineData(';')]
    [InlineData('\t')]
    [InlineData(',')]
    public async Task Delimiter_is_detected_from_the_header(char d)
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync($"Email{d}First Name{d}Company\nann@acme.io{d}Ann{d}\"Acme{d} Inc\"\n");
        s.Long("created").ShouldBe(1, s.ToJsonString());
        var lead = (await ws.LeadsAsync()).Single();
        lead["firstName"]!.GetValue<string>().ShouldBe("Ann");
        lead["company"]!.GetValue<string>().ShouldBe($"Acme{d} Inc");
    }

    [Fact]
    public async Task Utf8_BOM_is_dropped_and_non_ascii_text_survives()
    {
        var ws = await api.CreateWorkspaceAsync();
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("email,firstName,lastName\nzoe@acme.io,Zoë,Ñúñez\n")).ToArray();
        var s = await ws.ImportAsync(bytes);
        s.Long("created").ShouldBe(1, s.ToJsonString());
        var lead = (await ws.LeadsAsync()).Single();
        lead["email"]!.GetValue<string>().ShouldBe("zoe@acme.io");
        lead["lastName"]!.GetValue<string>().ShouldBe("Ñúñez");
    }

    [Fact]
    public async Task A_spreadsheet_export_keeps_every_row_whatever_its_phone_format()
    {
        var ws = await api.CreateWorkspaceAsync();
        string[] phones = ["(247) 604-6018", "+1 955 604 5570", "247.604.6019", "2476046020", "555-0100", "ext. 12", "0049 30 1234567", "n/a"];
        var csv = "\uFEFFEmail Address,First Name,Last Name,Phone Number,Company Name,Lead Owner,Notes\r\n" +
                  string.Concat(phones.Select((p, i) => $"p{i}@acme.io,Pat{i},Lee,\"{p}\",Acme,Sam,\"called, no answer\"\r\n"));
        var s = await ws.ImportAsync(Encoding.UTF8.GetBytes(csv));
        (s.Long("created"), s.Long("failed")).ShouldBe((phones.Length, 0), s.ToJsonString());
        var leads = await ws.LeadsAsync();
        leads.Select(l => l["phone"]!.GetValue<string>()).ShouldBe(phones);
        var detail = await ws.Read.GetObjectAsync($"/api/leads/{leads[0].Id()}");
        detail["phoneE164"]!.GetValue<string>().ShouldBe("+12476046018");
        detail["metadata"]!["Lead Owner"]!.GetValue<string>().ShouldBe("Sam");
    }

    [Fact]
    public async Task Quoted_fields_hold_delimiters_quotes_and_newlines_and_lines_count_physically()
    {
        var ws = await api.CreateWorkspaceAsync();
        var csv = "email,company,notes\r\n" +
                  "a@acme.io,\"Acme, Inc.\",\"said \"\"hi\"\"\nthen left\"\r\n" +
                  "not-an-email,x,y\r\n";
        var s = await ws.ImportAsync(csv);
        s.Long("created").ShouldBe(1, s.ToJsonString());
        s.Long("failed").ShouldBe(1);
        s.Errors().Single().Line.ShouldBe(4); // the quoted newline makes row 1 span lines 2–3
        var id = (await ws.LeadsAsync()).Single().Id();
        var lead = await ws.Read.GetObjectAsync($"/api/leads/{id}");
        lead["company"]!.GetValue<string>().ShouldBe("Acme, Inc.");
        lead["metadata"]!["notes"]!.GetValue<string>().ShouldBe("said \"hi\"\nthen left");
    }

    [Fact]
    public async Task Header_names_and_aliases_match_loosely_other_columns_become_metadata()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("E-mail,Given Name,SURNAME,mobile,Organization,Lead Source,empty_one\n" +
                                     "kim@acme.io,Kim,Lee,+1 415 555 2671,Acme,Fair 2026,\n");
        s.Long("created").ShouldBe(1, s.ToJsonString());
        var lead = await ws.Read.GetObjectAsync($"/api/leads/{(await ws.LeadsAsync()).Single().Id()}");
        lead["email"]!.GetValue<string>().ShouldBe("kim@acme.io");
        lead["firstName"]!.GetValue<string>().ShouldBe("Kim");
        lead["lastName"]!.GetValue<string>().ShouldBe("Lee");
        lead["phone"]!.GetValue<string>().ShouldBe("+1 415 555 2671");
        lead["company"]!.GetValue<string>().ShouldBe("Acme");
        JsonNode.DeepEquals(lead["metadata"], JsonNode.Parse("""{"Lead Source":"Fair 2026"}""")).ShouldBeTrue(lead["metadata"]!.ToJsonString());
    }

    [Theory]
    [InlineData("Email Address,Phone Number,Company Name,First Name,Last Name")]
    [InlineData("email_address,phone_number,company_name,first_name,last_name")]
    [InlineData("emailAddress,PhoneNumber,company-name,FIRSTNAME,last name")]
    public async Task Spec_aliases_in_any_spelling(string header)
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync(header + "\nsam@acme.io,4155552671,Acme,Sam,Doe\n");
        s.Long("created").ShouldBe(1, s.ToJsonString());
        var lead = (await ws.LeadsAsync()).Single();
        lead["email"]!.GetValue<string>().ShouldBe("sam@acme.io");
        lead["phone"]!.GetValue<string>().ShouldBe("4155552671");
        lead["company"]!.GetValue<string>().ShouldBe("Acme");
        lead["lastName"]!.GetValue<string>().ShouldBe("Doe");
    }

    [Fact]
    public async Task Missing_columns_are_empty_extra_empty_fields_are_fine_extra_values_reject_the_row()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("email,firstName,lastName\n" +
                                     "short@acme.io\n" +            // fewer fields than the header
                                     "trail@acme.io,T,R,,\n" +      // trailing empty fields
                                     "extra@acme.io,E,X,surprise\n");
        s.Long("created").ShouldBe(2, s.ToJsonString());
        s.Errors().ShouldBe([(4L, "The row has 4 fields but the header has 3.")]);
    }

    [Fact]
    public async Task Blank_lines_are_ignored_and_hash_lines_are_data()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("\n\nfirstName,email\n\n#hash,h@acme.io\n   \n,,\nbad,nope\n");
        s.Long("totalRows").ShouldBe(2, s.ToJsonString());
        s.Long("created").ShouldBe(1);
        (await ws.LeadsAsync()).Single()["firstName"]!.GetValue<string>().ShouldBe("#hash");
        s.Errors().ShouldBe([(8L, "email is not a valid address.")]);
    }

    [Fact]
    public async Task Header_only_file_completes_with_nothing_to_do()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("email,phone\r\n");
        s.Str("status").ShouldBe("completed");
        s.Long("totalRows").ShouldBe(0);
        s.Long("processedRows").ShouldBe(0);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n  \n")]
    [InlineData("jane@acme.io,Jane,Smith\n")]
    [InlineData("foo,bar\n1,2\n")]
    public async Task Empty_file_or_a_first_line_naming_no_lead_column_is_400_missing_header(string csv)
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.UploadAsync(csv)).ShouldBeProblemAsync(System.Net.HttpStatusCode.BadRequest, "missing_header");
        p["detail"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.imports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
    }

    [Fact]
    public async Task Unbalanced_quote_fails_the_job_with_the_line_and_imports_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("email,firstName\nok@acme.io,Ok\n\"open@acme.io,Never closed\nlast@acme.io,Last\n");
        s.Str("status").ShouldBe("failed", s.ToJsonString());
        s.Str("failureReason").ShouldStartWith("Line 3: ");
        s.Str("failureReason").ShouldContain("never closed");
        s.Long("created").ShouldBe(0);
        (await ws.LeadsAsync()).ShouldBeEmpty();
        s["finishedAt"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Text_after_a_closing_quote_fails_the_job_with_the_line()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("email,firstName\nok@acme.io,Ok\nx@acme.io,\"Bo\"b\n");
        s.Str("status").ShouldBe("failed", s.ToJsonString());
        s.Str("failureReason").ShouldStartWith("Line 3: ");
    }

    [Fact]
    public async Task Invalid_utf8_rejects_only_that_row()
    {
        var ws = await api.CreateWorkspaceAsync();
        var bytes = Encoding.UTF8.GetBytes("email,firstName\ngood@acme.io,Good\nbad@acme.io,B")
            .Concat(new byte[] { 0xC3, 0x28, 0xFF })
            .Concat(Encoding.UTF8.GetBytes("d\nalso@acme.io,Also\n")).ToArray();
        var s = await ws.ImportAsync(bytes);
        s.Str("status").ShouldBe("completed", s.ToJsonString());
        s.Long("created").ShouldBe(2);
        var e = s.Errors().Single();
        e.Line.ShouldBe(3);
        e.Message.ShouldContain("UTF-8");
    }

    [Fact]
    public async Task NUL_byte_rejects_the_row_and_the_report_still_carries_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("email,firstName,custom\nnul@acme.io,Nu\0ll,x\nmeta@acme.io,Meta,a\0b\nok@acme.io,Ok,\n");
        s.Long("created").ShouldBe(1, s.ToJsonString());
        s.Errors().Select(e => e.Line).ShouldBe([2L, 3L]);
        s.Errors()[0].Message.ShouldContain("NUL");
        s.Errors()[1].Message.ShouldContain("NUL");
        var report = await ws.Read.GetStringAsync(s.Str("errorsUrl"));
        report.ShouldContain("nul@acme.io,Nu\uFFFDll,x,2,");
    }

    [Fact]
    public async Task Field_over_its_limit_rejects_the_row()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync($"email,company\nlong@acme.io,{new string('c', 201)}\nfine@acme.io,Acme\n");
        s.Long("created").ShouldBe(1, s.ToJsonString());
        s.Errors().ShouldBe([(2L, "company must be at most 200 characters.")]);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public async Task A_record_over_the_limit_rejects_only_its_row_and_later_lines_still_count(string eol)
    {
        var ws = await api.CreateWorkspaceAsync();
        var giant = new string('n', 1_100_000);
        var csv = string.Join(eol,
            "email,note",
            "a@acme.io,first",
            $"x@acme.io,{giant}",
            $"y@acme.io,\"{giant[..600_000]}{eol}{eol}with \"\"quotes\"\", and, commas{eol}{giant[..600_000]}\"",
            "b@acme.io,after",
            "bad-email,x") + eol;
        var s = await ws.ImportAsync(csv);
        s.Str("status").ShouldBe("completed", s["failureReason"]?.ToString());
        (s.Long("totalRows"), s.Long("created"), s.Long("failed")).ShouldBe((5, 2, 3));
        s.ShouldReconcile();
        var errors = s.Errors();
        errors.Select(e => e.Line).ShouldBe([3L, 4L, 9L]);
        errors[0].Message.ShouldContain("longer than 1,048,576 characters");
        errors[1].Message.ShouldContain("longer than 1,048,576 characters");
        Emails(await ws.LeadsAsync()).ShouldBe(["a@acme.io", "b@acme.io"]);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.row_errors WHERE import_id = @Id AND cardinality(fields) = 0",
            new { Id = s.Uuid("imp") })).ShouldBe(2);
    }

    [Fact]
    public async Task A_record_exactly_at_the_limit_is_read_whole()
    {
        var ws = await api.CreateWorkspaceAsync();
        const string head = "x@acme.io,";
        var exact = head + new string('m', 1_048_576 - head.Length);
        var s = await ws.ImportAsync($"email,note\n{exact}\nz@acme.io,z\n");
        s.Long("totalRows").ShouldBe(2, s.ToJsonString());
        s.Errors().ShouldNotContain(e => e.Message.Contains("longer than"));
    }

    [Fact]
    public async Task A_record_over_the_limit_whose_quote_never_closes_fails_the_file_with_its_line()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync($"email,note\nok@acme.io,fine\nx@acme.io,\"{new string('q', 1_100_000)}\nlast@acme.io,x\n");
        s.Str("status").ShouldBe("failed", s.ToJsonString());
        s.Str("failureReason").ShouldStartWith("Line 3: ");
        s.Str("failureReason").ShouldContain("never closed");
        s.Long("created").ShouldBe(0);
    }

    [Fact]
    public async Task Metadata_over_64_KB_rejects_the_row()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync($"email,a,b\nm@acme.io,{new string('a', 40_000)},{new string('b', 40_000)}\n");
        s.Long("failed").ShouldBe(1, s.ToJsonString());
        s.Errors().Single().Message.ShouldContain("metadata");
    }
}
