using System.Net.Http.Headers;
using Dapper;
using Kernel.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Modules.Access.Public;
using Npgsql;

namespace Leads.Tests.Infrastructure;

/// <summary>
/// The real HTTP pipeline in-process over a database of this test class's own. Typed helpers create
/// workspaces and keys the way the CLI does, and open connections for database assertions.
/// </summary>
public class ApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public string ConnectionString { get; protected set; } = "";

    /// <summary>The errors this host logged (with exceptions), quoted by the test client when it answers 500.</summary>
    public ServerLog ServerLog { get; }

    public ApiFactory() => ServerLog = new ServerLog(GetType().Name);

    /// <summary>Extra configuration a test class needs (e.g. a low rate limit).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public virtual async Task InitializeAsync()
    {
        ConnectionString = await TestCluster.CreateDatabaseAsync(GetType().Name);
        _ = Services; // build the host now, so failures surface in the fixture rather than the first test
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Leads", ConnectionString);
        builder.UseSetting("Database:MigrateOnStartup", "false");
        builder.UseSetting("Hangfire:Server", "false");
        builder.UseSetting("Logging:Format", "simple");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // Every test request comes from one (unknown) address, and the security tests send many bad keys on purpose;
        // the throttle's own tests lower this again.
        builder.UseSetting("Auth:FailuresPerIpPerMinute", "1000000");
        foreach (var (k, v) in Settings) builder.UseSetting(k, v);
        builder.ConfigureLogging(l => l.AddProvider(ServerLog));
    }

    public new async Task DisposeAsync() => await base.DisposeAsync();

    public async Task<NpgsqlConnection> OpenDbAsync()
    {
        var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    /// <summary>
    /// A completed async export of the workspace whose stored file is <paramref name="pieces"/> pieces of
    /// <paramref name="pieceBytes"/> bytes (<c>a</c>s), written straight to the tables; answers its TypeID.
    /// </summary>
    public async Task<string> StoredExportAsync(Guid workspaceId, int pieces, int pieceBytes)
    {
        var id = Guid.CreateVersion7();
        await using var db = await OpenDbAsync();
        await db.ExecuteAsync("""
            INSERT INTO import.exports (id, workspace_id, status, row_count, byte_count, created_by_key, started_at, finished_at)
            VALUES (@id, @ws, 'completed', @pieces, @pieces::bigint * @pieceBytes, @id, now(), now());
            INSERT INTO import.export_chunks (export_id, seq, data)
            SELECT @id, s, decode(repeat('61', @pieceBytes), 'hex') FROM generate_series(0, @pieces - 1) s;
            """, new { id, ws = workspaceId, pieces, pieceBytes });
        return Kernel.Ids.TypeId.Format(Kernel.Ids.IdPrefix.Export, id);
    }

    /// <summary>A client whose every response is checked against the published OpenAPI document (<see cref="OpenApiContract"/>).</summary>
    public new HttpClient CreateClient() => CreateDefaultClient(new Uri("http://localhost"), new ContractValidatingHandler(() => Server.CreateHandler(), ServerLog));

    public HttpClient Client(string? key = null)
    {
        var c = CreateClient();
        if (key is not null) c.DefaultRequestHeaders.Add("X-API-Key", key);
        return c;
    }

    public HttpClient ClientWithAuthorization(string key)
    {
        var c = CreateClient();
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key);
        return c;
    }

    /// <summary>A new workspace with an owner holding a full key and a read key.</summary>
    public async Task<TestWorkspace> CreateWorkspaceAsync(string? name = null)
    {
        name ??= "ws-" + Guid.NewGuid().ToString("N")[..10];
        var prov = Services.GetRequiredService<KeyProvisioning>();
        var full = await prov.CreateKeyAsync(name, KeyScopes.Full, MemberRoles.Owner, "owner-full");
        var read = await prov.CreateKeyAsync(name, KeyScopes.Read, MemberRoles.Owner, "owner-read");
        return new TestWorkspace(this, name, full.WorkspaceId, full.MemberId, full.Key, read.Key);
    }

    /// <summary>A key for a member of the given role in the workspace (the member is created if missing).</summary>
    public async Task<string> CreateKeyAsync(string workspace, string scope, string role) =>
        (await Services.GetRequiredService<KeyProvisioning>().CreateKeyAsync(workspace, scope, role, $"{role}-{scope}")).Key;

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await OpenDbAsync();
        return await conn.ExecuteScalarAsync<T>(sql, args) ?? throw new InvalidOperationException("no value");
    }
}

public sealed record TestWorkspace(ApiFactory Api, string Name, Guid Id, Guid OwnerId, string FullKey, string ReadKey)
{
    public HttpClient Full => Api.Client(FullKey);
    public HttpClient Read => Api.Client(ReadKey);
}
