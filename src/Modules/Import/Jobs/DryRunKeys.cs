using Dapper;
using Npgsql;

namespace Modules.Import.Jobs;

/// <summary>
/// The match keys of a dry run's rows so far, in a temporary table of the job's session: a dry run writes no
/// leads, yet a later row of the file must still count as a duplicate of an earlier one, without holding every
/// key of a 5-million-row file in memory.
/// </summary>
internal static class DryRunKeys
{
    private const string CreateSql = """
        CREATE TEMP TABLE IF NOT EXISTS import_dry_keys (k text PRIMARY KEY);
        TRUNCATE pg_temp.import_dry_keys
        """;

    private const string SeenSql = "SELECT k FROM pg_temp.import_dry_keys WHERE k = ANY(@Keys)";

    private const string AddSql = "INSERT INTO pg_temp.import_dry_keys (k) SELECT unnest(@Keys) ON CONFLICT DO NOTHING";

    private const string DropSql = "DROP TABLE IF EXISTS pg_temp.import_dry_keys";

    public static Task StartAsync(NpgsqlConnection conn, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(CreateSql, cancellationToken: ct));

    public static async Task<HashSet<string>> SeenAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string[] keys, CancellationToken ct) =>
        (await conn.QueryAsync<string>(new CommandDefinition(SeenSql, new { Keys = keys }, tx, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);

    public static Task AddAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string[] keys, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(AddSql, new { Keys = keys }, tx, cancellationToken: ct));

    public static Task DropAsync(NpgsqlConnection conn, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(DropSql, cancellationToken: ct));

    public static string Email(string emailNorm) => "e:" + emailNorm;
    public static string Phone(string phoneE164) => "p:" + phoneE164;
}
