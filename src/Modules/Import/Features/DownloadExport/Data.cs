using Npgsql;
using NpgsqlTypes;

namespace Modules.Import.Features.DownloadExport;

internal static class Data
{
    private const string ChunkSql = "SELECT data FROM import.export_chunks WHERE export_id = @Id AND seq = @Seq";

    /// <summary>
    /// One piece of the file, read on a connection taken for this statement only: the download holds no connection,
    /// statement or snapshot while the client reads it. A completed export's chunks never change (they became visible
    /// with its status, in one transaction), so reading them one at a time still gives the one file. Null past the
    /// last piece, or when the export was deleted meanwhile (retention).
    /// </summary>
    public static async Task<byte[]?> ChunkAsync(NpgsqlDataSource db, Guid id, int seq, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(ChunkSql, conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("Id", NpgsqlDbType.Uuid) { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<int>("Seq", NpgsqlDbType.Integer) { TypedValue = seq });
        return await cmd.ExecuteScalarAsync(ct) as byte[];
    }
}
