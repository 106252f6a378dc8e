using Microsoft.Extensions.Configuration;
using Modules.Import.Bulk;

namespace Leads.Tests.Bulk;

/// <summary><c>Bulk:ChunkSize</c>, <c>Bulk:DutyCycle</c>, <c>Bulk:Streams</c> and <c>Bulk:BackendNice</c>: defaults, the pause they give, and out-of-range values refused at start.</summary>
public sealed class BulkSettingsTests
{
    private static BulkSettings From(params (string Key, string Value)[] values) =>
        BulkSettings.From(new ConfigurationBuilder().AddInMemoryCollection(values.ToDictionary(v => v.Key, v => (string?)v.Value)).Build());

    [Fact]
    public void Defaults_run_500_lead_chunks_back_to_back_and_half_pauses_as_long_as_it_worked()
    {
        var s = From();
        (s.ChunkSize, s.DutyCycle, s.Streams, s.BackendNice).ShouldBe((500, 1.0, 2, 0));
        (From(("Bulk:Streams", "1")).Streams, From(("Bulk:BackendNice", "10")).BackendNice).ShouldBe((1, 10));
        s.PauseAfter(TimeSpan.FromMilliseconds(80)).ShouldBe(TimeSpan.Zero);
        From(("Bulk:DutyCycle", "0.5")).PauseAfter(TimeSpan.FromMilliseconds(80)).ShouldBe(TimeSpan.FromMilliseconds(80));
    }

    [Fact]
    public void A_duty_cycle_of_one_never_pauses_and_a_quarter_pauses_three_times_the_work()
    {
        From(("Bulk:DutyCycle", "1")).PauseAfter(TimeSpan.FromSeconds(1)).ShouldBe(TimeSpan.Zero);
        From(("Bulk:DutyCycle", "0.25")).PauseAfter(TimeSpan.FromMilliseconds(100)).ShouldBe(TimeSpan.FromMilliseconds(300));
    }

    [Theory]
    [InlineData("Bulk:ChunkSize", "0")]
    [InlineData("Bulk:ChunkSize", "1001")]
    [InlineData("Bulk:DutyCycle", "0")]
    [InlineData("Bulk:DutyCycle", "1.5")]
    [InlineData("Bulk:Streams", "0")]
    [InlineData("Bulk:Streams", "9")]
    [InlineData("Bulk:BackendNice", "-1")]
    [InlineData("Bulk:BackendNice", "20")]
    public void Out_of_range_values_are_refused_naming_the_setting(string key, string value) =>
        Should.Throw<InvalidOperationException>(() => From((key, value))).Message.ShouldContain(key);
}
