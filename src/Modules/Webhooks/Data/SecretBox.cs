using System.Security.Cryptography;
using Dapper;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Modules.Webhooks.Data;

/// <summary>
/// Signing secrets at rest: AES-256-GCM, the subscription's ID as associated data (a ciphertext copied to another
/// row does not decrypt). The key is <c>Webhooks:SecretKey</c> (32 bytes, base64) when configured — then a database
/// dump alone reveals no secret — else one generated on first use and kept in <c>webhooks.keys</c>.
/// </summary>
internal sealed class SecretBox(NpgsqlDataSource db, IConfiguration config) : Kernel.Security.ISecretSealer
{
    private const string EnsureKeySql = """
        INSERT INTO webhooks.keys (id, key) VALUES (1, @Key) ON CONFLICT (id) DO NOTHING;
        SELECT key FROM webhooks.keys WHERE id = 1;
        """;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private byte[]? _key;

    /// <summary>A new Standard Webhooks secret: <c>whsec_</c> + base64 of 32 random bytes.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public Task<byte[]> SealAsync(Guid subscriptionId, string secret, CancellationToken ct) =>
        SealAsync(System.Text.Encoding.UTF8.GetBytes(secret), subscriptionId.ToByteArray(), ct);

    public async Task<string> OpenAsync(Guid subscriptionId, byte[] sealedBytes, CancellationToken ct) =>
        System.Text.Encoding.UTF8.GetString(await OpenAsync(sealedBytes, subscriptionId.ToByteArray(), ct));

    public async Task<byte[]> SealAsync(ReadOnlyMemory<byte> plainBytes, byte[] context, CancellationToken ct)
    {
        var key = await KeyAsync(ct);
        var plain = plainBytes.Span;
        var sealedBytes = new byte[12 + 16 + plain.Length];
        var nonce = sealedBytes.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), context);
        return sealedBytes;
    }

    public async Task<byte[]> OpenAsync(byte[] sealedBytes, byte[] context, CancellationToken ct)
    {
        var key = await KeyAsync(ct);
        var plain = new byte[sealedBytes.Length - 28];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), plain, context);
        return plain;
    }

    private async Task<byte[]> KeyAsync(CancellationToken ct)
    {
        if (_key is not null) return _key;
        await _gate.WaitAsync(ct);
        try
        {
            if (_key is not null) return _key;
            if (config["Webhooks:SecretKey"] is { Length: > 0 } configured)
            {
                var k = Convert.FromBase64String(configured);
                if (k.Length != 32) throw new InvalidOperationException("Webhooks:SecretKey must be 32 bytes, base64-encoded.");
                return _key = k;
            }
            await using var conn = await db.OpenConnectionAsync(ct);
            return _key = await conn.ExecuteScalarAsync<byte[]>(new CommandDefinition(EnsureKeySql,
                new { Key = RandomNumberGenerator.GetBytes(32) }, cancellationToken: ct)) ?? throw new InvalidOperationException("No webhook key.");
        }
        finally
        {
            _gate.Release();
        }
    }
}
