using System.Security.Cryptography;
using System.Text;

namespace Modules.Access.Security;

/// <summary>
/// Spec §2 key format: <c>5l_live_</c>, 32 random base62 characters, and a 6-character base62 checksum of
/// everything before it. The checksum lets a mistyped or truncated key be refused without a database
/// lookup and makes leaked keys recognisable to secret scanners.
/// </summary>
internal static class ApiKeyFormat
{
    public const string Prefix = "5l_live_";
    private const int RandomLength = 32;
    private const int ChecksumLength = 6;
    public const int DisplayPrefixLength = 12;
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Generate()
    {
        var body = Prefix + RandomNumberGenerator.GetString(Base62, RandomLength);
        return body + Checksum(body);
    }

    /// <summary>Shape and checksum only; says nothing about whether the key exists.</summary>
    public static bool IsWellFormed(string key)
    {
        if (key.Length < Prefix.Length + RandomLength + ChecksumLength || !key.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        foreach (var c in key.AsSpan(Prefix.Length))
            if (!char.IsAsciiLetterOrDigit(c)) return false;
        var body = key[..^ChecksumLength];
        return CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Checksum(body)), Encoding.ASCII.GetBytes(key[^ChecksumLength..]));
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string DisplayPrefix(string key) => key[..DisplayPrefixLength];

    private static string Checksum(string body)
    {
        Span<byte> h = stackalloc byte[32];
        SHA256.HashData(Encoding.ASCII.GetBytes(body), h);
        var v = BitConverter.ToUInt32(h[..4]);
        Span<char> c = stackalloc char[ChecksumLength];
        for (var i = ChecksumLength - 1; i >= 0; i--)
        {
            c[i] = Base62[(int)(v % 62)];
            v /= 62;
        }
        return new string(c);
    }
}
