namespace Kernel.Security;

/// <summary>
/// Authenticated encryption of a secret at rest (AES-256-GCM), for a module that must keep a copy of an answer carrying
/// one: the Access module's idempotency records of the webhook-subscription POSTs hold the signing secret they showed.
/// The Webhooks module implements it with the key its subscriptions' secrets are stored under (<c>Webhooks:SecretKey</c>).
/// <paramref name="context"/> is bound to the ciphertext: a sealed value copied to another row does not open.
/// </summary>
public interface ISecretSealer
{
    Task<byte[]> SealAsync(ReadOnlyMemory<byte> plain, byte[] context, CancellationToken ct);

    Task<byte[]> OpenAsync(byte[] sealedBytes, byte[] context, CancellationToken ct);
}
