namespace Modules.Duplicates.Detection;

/// <summary>
/// How dismissed pairs (spec §10) steer the flag of a <em>new</em> lead, on every intake path (API, webhook, import
/// batch). A new lead is never itself part of a pair, but it can be the same person as one side of one: after
/// "Dana is not Pat" (they share a family landline), a re-imported Dana matches Dana on email and phone and Pat on the
/// phone only — flagging her under Pat would re-create the pairing the user dismissed.
///
/// Rule: group the new lead's matches by their group (primary). Two groups are <em>kept apart</em> when a dismissed
/// pair joins them (one lead of each, the primaries included). A group is barred when it is kept apart from another
/// group that the new lead matches on a key the first does not share with it — the new lead is then demonstrably the
/// other side's person. When the new lead matches both only on the keys they share (the landline), nothing is barred
/// and the ordinary rule (oldest primary) applies. Pure, so single and bulk detection give the same answer.
/// </summary>
internal static class DismissalRule
{
    /// <summary>One lead a new lead matched: its match keys and its group's primary.</summary>
    internal readonly record struct Matched(Guid Id, string? EmailNorm, string? PhoneE164, Guid PrimaryId);

    /// <summary>The primaries the new lead must not be flagged under.</summary>
    public static HashSet<Guid> Barred(string? emailNorm, string? phoneE164, IReadOnlyCollection<Matched> matches, IReadOnlySet<(Guid, Guid)> pairs)
    {
        var barred = new HashSet<Guid>();
        if (pairs.Count == 0) return barred;
        var groups = matches.GroupBy(m => m.PrimaryId).Select(g => (
            Primary: g.Key,
            Side: g.Select(m => m.Id).Append(g.Key).ToHashSet(),
            Keys: Keys(emailNorm, phoneE164, g))).ToList();
        if (groups.Count < 2) return barred;
        foreach (var g in groups)
            foreach (var h in groups)
                if (g.Primary != h.Primary && (h.Keys & ~g.Keys) != 0 && Apart(g.Side, h.Side, pairs))
                {
                    barred.Add(g.Primary);
                    break;
                }
        return barred;
    }

    /// <summary>Every lead a pair lookup needs: the matches and their primaries.</summary>
    public static Guid[] PairLookupIds(IEnumerable<Matched> matches) =>
        [.. matches.SelectMany(m => new[] { m.Id, m.PrimaryId }).Distinct()];

    /// <summary>Whether the matches span two groups at all (only then can a pair bar one).</summary>
    public static bool SpansGroups(IEnumerable<Matched> matches) => matches.Select(m => m.PrimaryId).Distinct().Skip(1).Any();

    private static bool Apart(HashSet<Guid> a, HashSet<Guid> b, IReadOnlySet<(Guid, Guid)> pairs)
    {
        foreach (var x in a)
            foreach (var y in b)
                if (pairs.Contains((x, y)) || pairs.Contains((y, x))) return true;
        return false;
    }

    // Bit 1: the new lead shares its email with the group; bit 2: its phone.
    private static int Keys(string? emailNorm, string? phoneE164, IEnumerable<Matched> members)
    {
        var keys = 0;
        foreach (var m in members)
        {
            if (emailNorm is not null && m.EmailNorm == emailNorm) keys |= 1;
            if (phoneE164 is not null && m.PhoneE164 == phoneE164) keys |= 2;
        }
        return keys;
    }
}
