using Modules.Duplicates.Suggestions;

namespace Leads.Tests.Duplicates;

/// <summary>The scoring rules of <see cref="Suggester.Score"/> (README "Suggestions"), one by one and combined.</summary>
public sealed class SuggesterScoreTests
{
    private static readonly DateTime At = new(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc);

    private static Suggester.Candidate C(bool? sameName = false, bool bothCompanies = false, double similarity = 0, bool localPart = false,
        bool longLocalPart = true, bool sameLastName = false, bool phoneDigits = false) => new()
    {
        Id = Guid.NewGuid(), CreatedAt = At, SameName = sameName, BothCompanies = bothCompanies, CompanySimilarity = similarity,
        SameLocalPart = localPart, LocalPartLongEnough = longLocalPart, SameLastName = sameLastName, SamePhoneDigits = phoneDigits,
    };

    [Fact]
    public void Same_name_and_the_same_company_key_is_the_strongest_name_evidence()
    {
        var s = Suggester.Score(C(sameName: true, bothCompanies: true, similarity: 1, sameLastName: true))!;
        s.Reasons.ShouldBe(["same_name_similar_company"]);
        s.Confidence.ShouldBe(0.95);
    }

    [Theory]
    [InlineData(0.3, 0.67)]
    [InlineData(0.5, 0.75)]
    [InlineData(0.8, 0.87)]
    public void Same_name_at_a_similar_company_scales_with_the_similarity(double similarity, double confidence)
    {
        var s = Suggester.Score(C(sameName: true, bothCompanies: true, similarity: similarity, sameLastName: true))!;
        s.Reasons.ShouldBe(["same_name_similar_company"]);
        s.Confidence.ShouldBe(confidence);
    }

    [Fact]
    public void Same_name_at_a_clearly_different_company_is_not_suggested() =>
        Suggester.Score(C(sameName: true, bothCompanies: true, similarity: 0.29, sameLastName: true)).ShouldBeNull();

    [Fact]
    public void Same_name_with_a_company_missing_on_one_side_is_weak_evidence()
    {
        var s = Suggester.Score(C(sameName: true, bothCompanies: false, sameLastName: true))!;
        s.Reasons.ShouldBe(["same_name"]);
        s.Confidence.ShouldBe(0.5);
    }

    [Fact]
    public void A_first_name_alone_is_never_evidence_whatever_the_company()
    {
        // SameName false: only the first name (or only the last) is equal. Null: a name part is missing on one side.
        Suggester.Score(C(sameName: false, bothCompanies: true, similarity: 1)).ShouldBeNull();
        Suggester.Score(C(sameName: null, bothCompanies: true, similarity: 1)).ShouldBeNull();
        Suggester.Score(C(sameName: false, bothCompanies: false)).ShouldBeNull();
    }

    [Fact]
    public void The_email_local_part_counts_only_with_the_same_last_name_and_at_least_three_characters()
    {
        var s = Suggester.Score(C(localPart: true, sameLastName: true))!;
        s.Reasons.ShouldBe(["same_email_local_part"]);
        s.Confidence.ShouldBe(0.8);
        Suggester.Score(C(localPart: true, sameLastName: false)).ShouldBeNull(); // info@, sales@ of different people
        Suggester.Score(C(localPart: true, sameLastName: true, longLocalPart: false)).ShouldBeNull(); // jo@
    }

    [Fact]
    public void The_same_phone_digits_in_another_region_are_evidence_on_their_own()
    {
        var s = Suggester.Score(C(phoneDigits: true))!;
        s.Reasons.ShouldBe(["same_phone_digits"]);
        s.Confidence.ShouldBe(0.75);
    }

    [Fact]
    public void Reasons_combine_as_independent_evidence_capped_at_0_99()
    {
        var two = Suggester.Score(C(localPart: true, sameLastName: true, phoneDigits: true))!;
        two.Reasons.ShouldBe(["same_email_local_part", "same_phone_digits"]);
        two.Confidence.ShouldBe(0.95); // 1 − 0.2 × 0.25
        var weakName = Suggester.Score(C(sameName: true, bothCompanies: false, sameLastName: true, phoneDigits: true))!;
        weakName.Reasons.ShouldBe(["same_name", "same_phone_digits"]);
        weakName.Confidence.ShouldBe(0.88); // 1 − 0.5 × 0.25
        var all = Suggester.Score(C(sameName: true, bothCompanies: true, similarity: 1, localPart: true, sameLastName: true, phoneDigits: true))!;
        all.Reasons.ShouldBe(["same_name_similar_company", "same_email_local_part", "same_phone_digits"]);
        all.Confidence.ShouldBe(0.99);
    }
}
