using System.Buffers.Binary;
using System.Text;

namespace Modules.Leads.Data;

/// <summary>
/// The list order of spec §11: one key (<c>createdAt</c>, <c>updatedAt</c>, <c>score</c>, <c>lastName</c>, <c>company</c>), ascending or
/// descending, ties broken by ID in the same direction, so every order is total and a keyset cursor can resume it exactly.
/// Names and companies sort case-insensitively (<c>lower()</c>), a missing one as the empty string (first ascending, last
/// descending). Each key is served by an index <c>(workspace_id, key, id)</c> (migration 0080), walked either way.
/// </summary>
internal readonly record struct LeadSort(LeadSort.Keys Key, bool Descending)
{
    internal enum Keys : byte { CreatedAt = 1, UpdatedAt = 2, Score = 3, LastName = 4, Company = 5 }

    /// <summary>The published order: newest first.</summary>
    public static readonly LeadSort Default = new(Keys.CreatedAt, Descending: true);

    public const string Allowed = "createdAt, updatedAt, score, lastName, company (a leading '-' for descending)";

    public bool IsDefault => this == Default;

    /// <summary>The key as SQL over <c>leads.leads l</c>; must stay the expression its index is built on.</summary>
    public string KeySql => Key switch
    {
        Keys.CreatedAt => "l.created_at",
        Keys.UpdatedAt => "l.updated_at",
        Keys.Score => "l.score",
        Keys.LastName => "lower(coalesce(l.last_name, ''))",
        _ => "lower(coalesce(l.company, ''))",
    };

    public string Direction => Descending ? "DESC" : "ASC";

    /// <summary>Keyset predicate: the leads after <c>(@CursorKey, @CursorId)</c> in this order.</summary>
    public string AfterSql => $"({KeySql}, l.id) {(Descending ? "<" : ">")} (@CursorKey, @CursorId)";

    public bool IsText => Key is Keys.LastName or Keys.Company;

    public override string ToString() => (Descending ? "-" : "") + Key switch
    {
        Keys.CreatedAt => "createdAt",
        Keys.UpdatedAt => "updatedAt",
        Keys.Score => "score",
        Keys.LastName => "lastName",
        _ => "company",
    };

    /// <summary>The <c>sort</c> parameter's problem, keyed by its name; empty when valid.</summary>
    public static Dictionary<string, string> Errors(string? value) =>
        TryParse(value, out _) ? [] : new() { ["sort"] = $"sort must be one of: {Allowed}." };

    public static bool TryParse(string? value, out LeadSort sort)
    {
        sort = Default;
        if (value is null) return true;
        var v = value.Trim();
        var desc = v.StartsWith('-');
        Keys? key = (desc ? v[1..] : v) switch
        {
            "createdAt" => Keys.CreatedAt,
            "updatedAt" => Keys.UpdatedAt,
            "score" => Keys.Score,
            "lastName" => Keys.LastName,
            "company" => Keys.Company,
            _ => null,
        };
        if (key is null) return false;
        sort = new LeadSort(key.Value, desc);
        return true;
    }
}

/// <summary>
/// Where a cursor walk resumes: the last lead returned (its sort key value as the database computed it, and its ID) and the
/// order it was returned in. Opaque to clients: base64url of a versioned binary form. A cursor says nothing about the
/// filters — leads are found by position, so a changed filter simply continues from that position.
/// </summary>
internal sealed record ListCursor(LeadSort Sort, object Key, Guid Id)
{
    private const byte Version = 1;

    public string Encode()
    {
        var buf = new List<byte> { Version, (byte)Sort.Key, (byte)(Sort.Descending ? 1 : 0) };
        buf.AddRange(Id.ToByteArray(bigEndian: true));
        switch (Key)
        {
            case DateTime t:
                var ticks = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(ticks, t.ToUniversalTime().Ticks);
                buf.AddRange(ticks);
                break;
            case short s:
                var b = new byte[2];
                BinaryPrimitives.WriteInt16BigEndian(b, s);
                buf.AddRange(b);
                break;
            case string text:
                buf.AddRange(Encoding.UTF8.GetBytes(text));
                break;
            default: throw new InvalidOperationException($"Unexpected cursor key {Key.GetType()}.");
        }
        return Convert.ToBase64String(buf.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Decodes <paramref name="value"/>; null when it is not a cursor this service issued.</summary>
    public static ListCursor? Decode(string value)
    {
        if (value.Length is 0 or > 2_000) return null;
        byte[] raw;
        try
        {
            var b64 = value.Replace('-', '+').Replace('_', '/');
            raw = Convert.FromBase64String(b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '='));
        }
        catch (FormatException) { return null; }
        if (raw.Length < 19 || raw[0] != Version || raw[1] is < 1 or > 5 || raw[2] > 1) return null;
        var sort = new LeadSort((LeadSort.Keys)raw[1], raw[2] == 1);
        var id = new Guid(raw.AsSpan(3, 16), bigEndian: true);
        var rest = raw.AsSpan(19);
        object? key = sort.Key switch
        {
            LeadSort.Keys.CreatedAt or LeadSort.Keys.UpdatedAt when rest.Length == 8
                && BinaryPrimitives.ReadInt64BigEndian(rest) is var ticks && ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks
                => new DateTime(ticks, DateTimeKind.Utc),
            LeadSort.Keys.Score when rest.Length == 2 => BinaryPrimitives.ReadInt16BigEndian(rest),
            LeadSort.Keys.LastName or LeadSort.Keys.Company => DecodeText(rest),
            _ => null,
        };
        return key is null ? null : new ListCursor(sort, key, id);
    }

    private static string? DecodeText(ReadOnlySpan<byte> bytes)
    {
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes) is var s && !s.Contains('\0') ? s : null; }
        catch (DecoderFallbackException) { return null; }
    }
}
