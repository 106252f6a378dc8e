using Hangfire.PostgreSql;
using Kernel.Data;
using Npgsql;

namespace Leads.Host.Database;

/// <summary>
/// Decides which PostgreSQL the process talks to: <c>ConnectionStrings:Leads</c> when set, otherwise the
/// embedded cluster in <c>Database:DataDirectory</c> (default <c>./.data</c>). Shared by the web host and the CLI verbs.
/// </summary>
public sealed class DatabaseBootstrap : IAsyncDisposable
{
    public string ConnectionString { get; }
    public EmbeddedPostgres? Embedded { get; }

    private DatabaseBootstrap(string connectionString, EmbeddedPostgres? embedded)
    {
        ConnectionString = connectionString;
        Embedded = embedded;
    }

    public static async Task<DatabaseBootstrap> StartAsync(IConfiguration config, ILogger log, CancellationToken ct = default)
    {
        var configured = config.GetConnectionString("Leads");
        // Several hosts (a primary and standbys behind pg_auto_failover or a scripted promote): every connection the
        // process makes — API, jobs, Hangfire, migrations, CLI verbs — goes to whichever of them is the primary now.
        if (!string.IsNullOrWhiteSpace(configured)) return new DatabaseBootstrap(MultiHost.ForWrites(configured), null);

        var dataDir = config["Database:DataDirectory"] is { Length: > 0 } d ? d : ".data";
        var name = config["Database:Name"] is { Length: > 0 } n ? n : "leads";
        var pg = await EmbeddedPostgres.StartAsync(dataDir, log, ServerSettings(config), ct);
        try
        {
            await pg.EnsureDatabaseAsync(name, ct);
        }
        catch
        {
            await pg.StopAsync();
            throw;
        }
        return new DatabaseBootstrap(pg.ConnectionString(name, maxPoolSize: 100), pg);
    }

    /// <summary>
    /// Server settings the embedded cluster starts with (docs/operations.md, "Embedded cluster settings"; measured in
    /// docs/benchmarks.md, "Intake" and "Bulk"): with PostgreSQL's stock 1 GB of WAL and 5 minutes between checkpoints,
    /// sustained intake checkpoints about every minute, and after each one the first change of every index page writes a
    /// full-page image (0.3–0.4 per lead, measured). <c>shared_buffers</c> is a quarter of the memory this process may
    /// use (<see cref="DefaultSharedBuffers"/>) instead of the stock 128 MB: a bulk action or an edit touches a random
    /// leaf of most of the leads' indexes, and with 128 MB every such page is copied in from the kernel and a dirty one
    /// written out to make room (a 5,000-lead status update, measured: 258 µs per lead at 128 MB, 172 µs with the
    /// working set in shared memory). Each can be changed or added with <c>Database:Server:&lt;name&gt;</c> (e.g.
    /// <c>--Database:Server:shared_buffers=2GB</c>); an empty value leaves the server's own. Durability stays on:
    /// <c>synchronous_commit</c> and <c>fsync</c> are never set here.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string> DefaultServerSettings = new Dictionary<string, string>
    {
        ["max_wal_size"] = "4GB",
        ["checkpoint_timeout"] = "15min",
        ["shared_buffers"] = DefaultSharedBuffers(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes),
    };

    /// <summary>
    /// A quarter of <paramref name="availableBytes"/> (the machine's memory, or the container's limit: what the runtime
    /// reports as available), between PostgreSQL's stock 128 MB and 8 GB, in whole megabytes. PostgreSQL maps it at start
    /// but the kernel only backs the pages it uses.
    /// </summary>
    internal static string DefaultSharedBuffers(long availableBytes)
    {
        const long mb = 1024 * 1024;
        var quarter = availableBytes / 4 / mb;
        return $"{Math.Clamp(quarter, 128, 8192)}MB";
    }

    internal static IReadOnlyDictionary<string, string> ServerSettings(IConfiguration config)
    {
        var settings = new Dictionary<string, string>(DefaultServerSettings);
        foreach (var s in config.GetSection("Database:Server").GetChildren())
            if (string.IsNullOrWhiteSpace(s.Value)) settings.Remove(s.Key);
            else settings[s.Key] = s.Value;
        foreach (var (k, v) in settings)
            if (!System.Text.RegularExpressions.Regex.IsMatch(k, "^[a-z_][a-z0-9_.]*$") || !System.Text.RegularExpressions.Regex.IsMatch(v, "^[A-Za-z0-9_.:+-]+$"))
                throw new InvalidOperationException($"Database:Server:{k} = '{v}' is not a server setting pg_ctl can pass on (a name and a plain value).");
        return settings;
    }

    /// <summary>Applies DbUp migrations, then Hangfire's own schema objects into the <c>hangfire</c> schema.</summary>
    public static async Task MigrateAsync(string connectionString, ILogger log, CancellationToken ct = default)
    {
        await Migrations.Migrator.RunAsync(connectionString, log, ct);
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        PostgreSqlObjectsInstaller.Install(conn, HangfireSchema);
    }

    public const string HangfireSchema = "hangfire";

    public async ValueTask DisposeAsync()
    {
        if (Embedded is not null) await Embedded.StopAsync();
    }
}
