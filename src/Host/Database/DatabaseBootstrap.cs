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
        var pg = await EmbeddedPostgres.StartAsync(dataDir, log, ct: ct);
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
