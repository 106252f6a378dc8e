using System.Diagnostics;
using Leads.Host.Database;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Leads.Tests.Platform;

/// <summary>Issue 16 item 7: the embedded cluster trusted any local user on 127.0.0.1 as its superuser.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class EmbeddedClusterTests
{
    [Fact]
    public async Task The_cluster_refuses_a_connection_without_its_password_which_only_its_owner_can_read()
    {
        var pg = await TestCluster.GetAsync();
        var withPassword = new NpgsqlConnectionStringBuilder(pg.ConnectionString("postgres"));
        await using (var ok = new NpgsqlConnection(withPassword.ConnectionString))
            await ok.OpenAsync();

        withPassword.Password = null;
        var refused = await Should.ThrowAsync<NpgsqlException>(async () =>
        {
            await using var conn = new NpgsqlConnection(withPassword.ConnectionString);
            await conn.OpenAsync();
        });
        refused.Message.ShouldContain("password");
        withPassword.Password = "guess";
        (await Should.ThrowAsync<PostgresException>(async () =>
        {
            await using var conn = new NpgsqlConnection(withPassword.ConnectionString);
            await conn.OpenAsync();
        })).SqlState.ShouldBe("28P01");

        var file = Path.Combine(pg.DataDirectory, EmbeddedPostgres.PasswordFileName);
        File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        (await File.ReadAllLinesAsync(Path.Combine(pg.DataDirectory, "pg_hba.conf")))
            .Where(l => !l.TrimStart().StartsWith('#') && l.Trim().Length > 0)
            .ShouldAllBe(l => l.TrimEnd().EndsWith("scram-sha-256"));
    }

    [Fact]
    public async Task The_psql_verb_connects_an_operator_to_the_embedded_database()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"leads-psql-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        if (Environment.UserName == "root") File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("755", 8));
        try
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Leads.Host.dll"), "psql", "-tA", "-c", "SELECT current_user || ':' || current_database()",
                         $"--Database:DataDirectory={Path.Combine(dir, "data")}" })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            p.ExitCode.ShouldBe(0, await stderr);
            (await stdout).Trim().ShouldBe("postgres:leads");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Theory]
    [InlineData(24L << 30, "6144MB")] // this machine: a quarter
    [InlineData(256L << 20, "128MB")] // a small container: never below PostgreSQL's stock value
    [InlineData(128L << 30, "8192MB")] // a large machine: capped
    public void Shared_buffers_default_to_a_quarter_of_the_available_memory_within_bounds(long available, string expected) =>
        DatabaseBootstrap.DefaultSharedBuffers(available).ShouldBe(expected);

    [Fact]
    public void Server_settings_take_the_defaults_unless_configured_and_an_empty_value_keeps_the_servers_own()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Server:shared_buffers"] = "512MB",
            ["Database:Server:checkpoint_timeout"] = "",
            ["Database:Server:work_mem"] = "8MB",
        }).Build();
        var settings = DatabaseBootstrap.ServerSettings(config);
        settings["shared_buffers"].ShouldBe("512MB");
        settings["work_mem"].ShouldBe("8MB");
        settings["max_wal_size"].ShouldBe("4GB");
        settings.ShouldNotContainKey("checkpoint_timeout");
        DatabaseBootstrap.ServerSettings(new ConfigurationBuilder().Build())["shared_buffers"]
            .ShouldBe(DatabaseBootstrap.DefaultSharedBuffers(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes));
    }
}
