using System.Diagnostics.CodeAnalysis;

namespace Kernel.Ids;

/// <summary>
/// TypeID (jetify-com/typeid): a type prefix, '_', and the 26-character lowercase Crockford base32
/// encoding of a 128-bit UUID (big-endian, two leading zero bits). Inputs also accept the bare UUID.
/// </summary>
public static class TypeId
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    private static readonly sbyte[] Decode = BuildDecodeTable();

    public static string Format(string prefix, Guid id)
    {
        Span<byte> b = stackalloc byte[16];
        id.TryWriteBytes(b, bigEndian: true, out _);
        return string.Create(prefix.Length + 1 + 26, (prefix, id), static (dest, state) =>
        {
            state.prefix.AsSpan().CopyTo(dest);
            dest[state.prefix.Length] = '_';
            Span<byte> bytes = stackalloc byte[16];
            state.id.TryWriteBytes(bytes, bigEndian: true, out _);
            Encode(bytes, dest[(state.prefix.Length + 1)..]);
        });
    }

    /// <summary>Parses "prefix_base32" or a bare UUID. A different prefix or malformed text fails.</summary>
    public static bool TryParse(string? input, string prefix, out Guid id)
    {
        id = Guid.Empty;
        if (string.IsNullOrEmpty(input)) return false;
        var s = input.AsSpan();
        if (s.Length == prefix.Length + 27 && s.StartsWith(prefix, StringComparison.Ordinal) && s[prefix.Length] == '_')
            return TryDecode(s[(prefix.Length + 1)..], out id);
        if (s.Length is 36 or 32 && Guid.TryParse(s, out id)) return true;
        id = Guid.Empty;
        return false;
    }

    public static bool TryParseAny(string? input, [NotNullWhen(true)] out string? prefix, out Guid id)
    {
        prefix = null;
        id = Guid.Empty;
        if (string.IsNullOrEmpty(input)) return false;
        var sep = input.LastIndexOf('_');
        if (sep <= 0 || input.Length - sep - 1 != 26) return false;
        if (!TryDecode(input.AsSpan(sep + 1), out id)) return false;
        prefix = input[..sep];
        return true;
    }

    private static void Encode(ReadOnlySpan<byte> src, Span<char> dst)
    {
        // 130 bits = 2 zero bits + 128 bits of the UUID, read 5 bits at a time from the most significant end.
        UInt128 v = 0;
        foreach (var t in src) v = (v << 8) | t;
        for (var i = 25; i >= 0; i--)
        {
            dst[i] = Alphabet[(int)(v & 31)];
            v >>= 5;
        }
    }

    private static bool TryDecode(ReadOnlySpan<char> s, out Guid id)
    {
        id = Guid.Empty;
        if (s.Length != 26 || s[0] > '7') return false;
        UInt128 v = 0;
        foreach (var c in s)
        {
            var d = c < 128 ? Decode[c] : (sbyte)-1;
            if (d < 0) return false;
            v = (v << 5) | (uint)d;
        }
        Span<byte> b = stackalloc byte[16];
        for (var i = 15; i >= 0; i--)
        {
            b[i] = (byte)(v & 0xff);
            v >>= 8;
        }
        id = new Guid(b, bigEndian: true);
        return true;
    }

    private static sbyte[] BuildDecodeTable()
    {
        var t = new sbyte[128];
        Array.Fill(t, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++) t[Alphabet[i]] = (sbyte)i;
        return t;
    }
}

/// <summary>The TypeID prefixes of spec §1, in one place.</summary>
public static class IdPrefix
{
    public const string Workspace = "ws";
    public const string User = "usr";
    public const string ApiKey = "key";
    public const string Source = "src";
    public const string Lead = "lead";
    public const string Tag = "tag";
    public const string Event = "evt";
    public const string Import = "imp";
    public const string Export = "exp";
    public const string Bulk = "blk";
}
