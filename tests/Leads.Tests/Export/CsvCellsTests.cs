using System.Text.RegularExpressions;
using Modules.Leads.Public;

namespace Leads.Tests.Export;

public sealed class CsvCellsTests
{
    [Theory]
    [InlineData("=HYPERLINK(\"http://evil.example\",\"click\")", "'=HYPERLINK(\"http://evil.example\",\"click\")")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+cmd", "'+cmd")]
    [InlineData("-cmd", "'-cmd")]
    [InlineData("@x", "'@x")]
    [InlineData("@SUM(A1:A2)", "'@SUM(A1:A2)")]
    [InlineData("\tfoo", "'\tfoo")]
    [InlineData("\rfoo", "'\rfoo")]
    [InlineData("\nfoo", "'\nfoo")]
    [InlineData("+", "'+")]
    [InlineData("=", "'=")]
    [InlineData("+1-2=3", "'+1-2=3")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("+1 (415) 555-2671", "+1 (415) 555-2671")]
    [InlineData("+14155552671", "+14155552671")]
    [InlineData("-5", "-5")]
    [InlineData("+5", "+5")]
    [InlineData("-1.5", "-1.5")]
    [InlineData("-(415) 555.2671", "-(415) 555.2671")]
    [InlineData("-", "-")]
    [InlineData("+-1", "+-1")]
    [InlineData("++1", "'++1")]
    [InlineData("-+1", "'-+1")]
    [InlineData("+1\n", "'+1\n")]
    [InlineData("+１２", "'+１２")]
    [InlineData("", "")]
    [InlineData("Jane", "Jane")]
    [InlineData("O'Brien", "O'Brien")]
    [InlineData("a=b", "a=b")]
    [InlineData(" =1", " =1")]
    [InlineData("'=1", "'=1")]
    [InlineData("(415) 555-2671", "(415) 555-2671")]
    public void Formula_like_cells_get_a_leading_quote_except_numbers_and_phone_numbers(string value, string expected) =>
        CsvCells.Neutralise(value).ShouldBe(expected);

    [Fact]
    public void The_number_or_phone_exception_is_exactly_the_spec_pattern()
    {
        // The spec's ^[+-]?[0-9 ().-]+$, anchored at the very end (.NET's $ would also accept a trailing newline).
        var spec = new Regex(@"^[+-]?[0-9 ().-]+\z", RegexOptions.CultureInvariant);
        const string alphabet = "+-0123456789 ().=@a\t\n";
        var random = new Random(20260301);
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(0, 7)];
            for (var j = 0; j < chars.Length; j++) chars[j] = alphabet[random.Next(alphabet.Length)];
            var s = new string(chars);
            CsvCells.IsNumberOrPhone(s).ShouldBe(spec.IsMatch(s), $"'{Regex.Escape(s)}'");
        }
    }
}
