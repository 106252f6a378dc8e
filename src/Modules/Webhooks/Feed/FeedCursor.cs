using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Modules.Webhooks.Feed;

/// <summary>
/// A position in the change feed: the writing transaction's id and the row's sequence number (the feed's sort key,
/// migration 0090). Opaque to clients: 16 bytes, base64url.
/// </summary>
internal readonly record struct FeedCursor(long TxId, long Position)
{
    public static readonly FeedCursor Start = new(0, 0);

    public override string ToString()
    {
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(b, TxId);
        BinaryPrimitives.WriteInt64BigEndian(b[8..], Position);
        return Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryParse(string? s, [NotNullWhen(true)] out FeedCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(s) || s.Length != 22) return false;
        Span<byte> b = stackalloc byte[16];
        var padded = s.Replace('-', '+').Replace('_', '/') + "==";
        if (!Convert.TryFromBase64String(padded, b, out var n) || n != 16) return false;
        var c = new FeedCursor(BinaryPrimitives.ReadInt64BigEndian(b), BinaryPrimitives.ReadInt64BigEndian(b[8..]));
        if (c.TxId < 0 || c.Position < 0) return false;
        cursor = c;
        return true;
    }
}
