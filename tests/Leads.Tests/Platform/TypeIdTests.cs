using Kernel.Ids;

namespace Leads.Tests.Platform;

public sealed class TypeIdTests
{
    [Fact]
    public void Matches_the_typeid_spec_vectors()
    {
        // Vectors from the TypeID specification.
        TypeId.Format("prefix", Guid.Parse("0188bac7-4afa-78aa-bc3b-bd1eef28d881")).ShouldBe("prefix_01h2xcejqtf2nbrexx3vqjhp41");
        TypeId.Format("x", Guid.Parse("00000000-0000-0000-0000-000000000001")).ShouldBe("x_00000000000000000000000001");
        TypeId.Format("x", Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff")).ShouldBe("x_7zzzzzzzzzzzzzzzzzzzzzzzzz");
    }

    [Fact]
    public void Round_trips_uuid_v7()
    {
        for (var i = 0; i < 1000; i++)
        {
            var g = Guid.CreateVersion7();
            var s = TypeId.Format("lead", g);
            s.Length.ShouldBe(31);
            TypeId.TryParse(s, "lead", out var back).ShouldBeTrue();
            back.ShouldBe(g);
        }
    }

    [Theory]
    [InlineData("lead_01h2xcejqtf2nbrexx3vqjhp41", "usr")]   // wrong prefix
    [InlineData("lead_81h2xcejqtf2nbrexx3vqjhp41", "lead")]  // first char > 7 overflows 128 bits
    [InlineData("lead_01h2xcejqtf2nbrexx3vqjhp4", "lead")]   // too short
    [InlineData("lead_01h2xcejqtf2nbrexx3vqjhp4u", "lead")]  // 'u' is not Crockford
    [InlineData("LEAD_01h2xcejqtf2nbrexx3vqjhp41", "lead")]
    [InlineData("", "lead")]
    public void Rejects_malformed_or_foreign_ids(string input, string prefix) =>
        TypeId.TryParse(input, prefix, out _).ShouldBeFalse();

    [Fact]
    public void Accepts_the_bare_uuid()
    {
        TypeId.TryParse("0188bac7-4afa-78aa-bc3b-bd1eef28d881", "src", out var g).ShouldBeTrue();
        g.ShouldBe(Guid.Parse("0188bac7-4afa-78aa-bc3b-bd1eef28d881"));
    }
}
