using Npgsql;
using NpgsqlTypes;

namespace Modules.Import.Features.DownloadExport;

internal static class Data
{
    private const string ChunksSql = "SELECT data FROM import.export_chunks WHERE export_id = @Id ORDER BY seq";

    /// <summary>The file's chunks in order; read them sequentially (each chunk streams, none is held whole).</summary>
    public static NpgsqlCommand ChunksCommand(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id)
    {
        var cmd = new NpgsqlCommand(ChunksSql, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("Id", NpgsqlDbType.Uuid) { TypedValue = id });
        return cmd;
    }

    /// <summary>Asks the server to stop sending the chunks (best effort: a broken connection has nothing to cancel).</summary>
    public static void Cancel(NpgsqlCommand cmd)
    {
        try
        {
            cmd.Cancel();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
        }
    }

    /// <summary>Closes the reader; after <see cref="Cancel"/> the server's "canceling statement" error is the expected end.</summary>
    public static async Task CloseAsync(NpgsqlDataReader reader, bool cancelled)
    {
        try
        {
            await reader.DisposeAsync();
        }
        catch (Exception e) when (cancelled && e is NpgsqlException or OperationCanceledException)
        {
        }
    }
}
