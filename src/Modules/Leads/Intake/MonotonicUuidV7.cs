using System.Buffers.Binary;

namespace Modules.Leads.Intake;

/// <summary>
/// UUIDv7s that never go backwards within one generator. <see cref="Guid.CreateVersion7()"/> fills the bits below
/// the millisecond at random, so two IDs of one millisecond compare randomly; imported rows of one batch share
/// their <c>created_at</c> and rely on ID order to stay in file order ("oldest primary" ties, newest-first lists).
/// Within a millisecond the next ID counts up from the last one (RFC 9562 §6.2, method 2). One generator serves
/// every batch write of the process, so consecutive batches of one import stay in order too; safe on any thread.
/// </summary>
internal sealed class MonotonicUuidV7
{
    /// <summary>The process's generator: import chunks and single intake's group-commit batches.</summary>
    public static readonly MonotonicUuidV7 Shared = new();

    private readonly Lock _gate = new();
    private UInt128 _last;

    public Guid Next()
    {
        Span<byte> b = stackalloc byte[16];
        Guid.CreateVersion7().TryWriteBytes(b, bigEndian: true, out _);
        var v = BinaryPrimitives.ReadUInt128BigEndian(b);
        lock (_gate)
        {
            if (v <= _last) v = _last + 1;
            _last = v;
        }
        BinaryPrimitives.WriteUInt128BigEndian(b, v);
        return new Guid(b, bigEndian: true);
    }
}
