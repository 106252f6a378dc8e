using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Leads.Host.Database;

/// <summary>Thrown when no PostgreSQL binaries exist and no connection string was given.</summary>
public sealed class PostgresUnavailableException(string message) : Exception(message);

/// <summary>
/// A private PostgreSQL cluster run from the machine's binaries (initdb/pg_ctl on PATH or in
/// /usr/lib/postgresql/*/bin). PostgreSQL refuses to run as root, so as root every server command runs
/// as the unprivileged 'postgres' system user through runuser. The service, the CLI verbs and the test
/// run all use this one class.
/// <para>
/// Closed to other local users: the superuser authenticates with SCRAM-SHA-256 and a random password that only the
/// cluster's owner (and root) can read, kept in the data folder as <c>pgpass</c> (mode 0600, libpq's password-file
/// format: <c>PGPASSFILE=&lt;data&gt;/pgpass psql -h 127.0.0.1 -p &lt;port&gt; -U postgres</c>, or the <c>psql</c> CLI verb).
/// There is no Unix socket. A cluster created before this (trust) is switched over on its next start.
/// </para>
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    private const string SystemUser = "postgres";
    public const string PasswordFileName = "pgpass";
    private string _password = "";
    private readonly string _binDir;
    private readonly ILogger _log;

    public string DataDirectory { get; }
    public int Port { get; private set; }

    /// <summary>False when the cluster was already running (e.g. the CLI beside a running server): we then never stop it.</summary>
    public bool StartedByUs { get; private set; }

    private EmbeddedPostgres(string binDir, string dataDirectory, ILogger log)
    {
        _binDir = binDir;
        DataDirectory = dataDirectory;
        _log = log;
    }

    public string ConnectionString(string database, int maxPoolSize = 100) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SystemUser,
        Password = _password,
        Database = database,
        MaxPoolSize = maxPoolSize,
    }.ConnectionString;

    /// <summary>Starts (or adopts) the cluster; <c>settings</c> are extra server settings (-c name=value), e.g. fsync=off for throwaway test clusters.</summary>
    public static async Task<EmbeddedPostgres> StartAsync(string dataDirectory, ILogger log,
        IReadOnlyDictionary<string, string>? settings = null, CancellationToken ct = default)
    {
        var bin = FindBinDirectory() ?? throw new PostgresUnavailableException(
            "PostgreSQL binaries (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin: " +
            "install them with 'apt-get install postgresql', or set ConnectionStrings:Leads to an existing server.");
        var pg = new EmbeddedPostgres(bin, Path.GetFullPath(dataDirectory), log);
        await pg.EnsureInitialisedAsync(ct);
        await pg.EnsureRunningAsync(settings, ct);
        await pg.EnsurePasswordAsync(ct);
        return pg;
    }

    public async Task EnsureDatabaseAsync(string database, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(ConnectionString("postgres"));
        await conn.OpenAsync(ct);
        await using var check = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @n", conn);
        check.Parameters.AddWithValue("n", database);
        if (await check.ExecuteScalarAsync(ct) is not null) return;
        try
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"")}\"", conn);
            await create.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == "42P04")
        {
            // Created concurrently by another instance: fine.
        }
    }

    public async Task StopAsync()
    {
        if (!StartedByUs) return;
        StartedByUs = false;
        var (code, output) = await RunAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"], CancellationToken.None);
        if (code != 0) _log.LogWarning("pg_ctl stop exited {Code}: {Output}", code, output.Trim());
        else _log.LogInformation("Embedded PostgreSQL stopped");
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task EnsureInitialisedAsync(CancellationToken ct)
    {
        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION"))) return;
        Directory.CreateDirectory(DataDirectory);
        if (IsRoot)
        {
            await RunRawAsync("chown", ["-R", $"{SystemUser}:{SystemUser}", DataDirectory], ct);
            var (ok, _) = await RunRawAsync("runuser", ["-u", SystemUser, "--", "test", "-w", DataDirectory], ct);
            if (ok != 0)
                throw new PostgresUnavailableException(
                    $"The '{SystemUser}' user cannot write to {DataDirectory} (a parent folder is not traversable): " +
                    "set Database:DataDirectory to a folder it can reach, or ConnectionStrings:Leads.");
        }
        _log.LogInformation("Initialising embedded PostgreSQL cluster in {Dir}", DataDirectory);
        var password = NewPassword();
        // initdb wants an empty data folder, so the password passes through a private temporary file.
        var pwfile = Path.Combine(Path.GetTempPath(), $"leads-pw-{Guid.NewGuid():N}");
        await WritePrivateAsync(pwfile, password + "\n", ct);
        try
        {
            var (code, output) = await RunAsync("initdb",
                ["-D", DataDirectory, "-U", SystemUser, "-A", "scram-sha-256", "--pwfile", pwfile, "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"], ct);
            if (code != 0) throw new InvalidOperationException($"initdb failed ({code}): {output.Trim()}");
        }
        finally
        {
            File.Delete(pwfile);
        }
        await WritePrivateAsync(PasswordFile, $"*:*:*:{SystemUser}:{password}\n", ct);
    }

    private string PasswordFile => Path.Combine(DataDirectory, PasswordFileName);

    /// <summary>
    /// Reads the superuser's password; a cluster initialised with trust (before passwords) gets one now: a password set
    /// over the still-trusting connection, then pg_hba.conf switched to SCRAM and reloaded.
    /// </summary>
    private async Task EnsurePasswordAsync(CancellationToken ct)
    {
        if (File.Exists(PasswordFile))
        {
            _password = (await File.ReadAllTextAsync(PasswordFile, ct)).Trim().Split(':')[^1];
            return;
        }
        var hba = Path.Combine(DataDirectory, "pg_hba.conf");
        var lines = await File.ReadAllLinesAsync(hba, ct);
        if (!lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s*(local|host)\S*\s.*\strust\s*$")))
            throw new InvalidOperationException($"{PasswordFile} is missing and the cluster does not trust local connections: restore the file or set ConnectionStrings:Leads.");
        var password = NewPassword();
        await using (var conn = new NpgsqlConnection(ConnectionString("postgres", 1)))
        {
            await conn.OpenAsync(ct);
            await using var alter = new NpgsqlCommand($"SET password_encryption = 'scram-sha-256'; ALTER ROLE {SystemUser} PASSWORD '{password}'", conn);
            await alter.ExecuteNonQueryAsync(ct);
            await WritePrivateAsync(PasswordFile, $"*:*:*:{SystemUser}:{password}\n", ct);
            // Rewritten in place, so the file keeps its owner (the cluster's).
            await File.WriteAllLinesAsync(hba, lines.Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"\strust\s*$", " scram-sha-256")), ct);
            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", conn);
            await reload.ExecuteNonQueryAsync(ct);
        }
        NpgsqlConnection.ClearAllPools();
        _password = password;
        _log.LogInformation("Embedded PostgreSQL switched from trust to a SCRAM password ({File})", PasswordFile);
    }

    // Letters and digits only: safe inside SQL quotes, a pgpass line and a connection string alike.
    private static string NewPassword() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();

    /// <summary>Writes a file only the cluster's owner may read (0600; owned by the postgres user when we are root).</summary>
    private static async Task WritePrivateAsync(string path, string content, CancellationToken ct)
    {
        if (OperatingSystem.IsWindows())
        {
            await File.WriteAllTextAsync(path, content, ct);
            return;
        }
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var f = new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = owner }))
        await using (var w = new StreamWriter(f))
            await w.WriteAsync(content.AsMemory(), ct);
        File.SetUnixFileMode(path, owner);
        if (IsRoot) await RunRawAsync("chown", [$"{SystemUser}:{SystemUser}", path], ct);
    }

    /// <summary>Environment for libpq tools (psql, pg_dump) to reach this cluster as its superuser.</summary>
    public IReadOnlyDictionary<string, string> LibpqEnvironment(string database) => new Dictionary<string, string>
    {
        ["PGHOST"] = "127.0.0.1",
        ["PGPORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PGUSER"] = SystemUser,
        ["PGDATABASE"] = database,
        ["PGPASSFILE"] = PasswordFile,
    };

    private async Task EnsureRunningAsync(IReadOnlyDictionary<string, string>? settings, CancellationToken ct)
    {
        if (await TryAdoptRunningAsync(ct)) return;
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            var options = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''";
            foreach (var (k, v) in settings ?? new Dictionary<string, string>()) options += $" -c {k}={v}";
            var (code, output) = await RunAsync("pg_ctl",
                ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(DataDirectory, "server.log"), "-o", options], ct);
            if (code == 0)
            {
                StartedByUs = true;
                _log.LogInformation("Embedded PostgreSQL started on 127.0.0.1:{Port} ({Dir})", Port, DataDirectory);
                return;
            }
            // Another process may have started it between our check and our start, or the port was taken.
            if (await TryAdoptRunningAsync(ct)) return;
            if (attempt >= 3) throw new InvalidOperationException($"pg_ctl start failed ({code}): {output.Trim()} — see {DataDirectory}/server.log");
        }
    }

    private async Task<bool> TryAdoptRunningAsync(CancellationToken ct)
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile)) return false;
        var (code, _) = await RunAsync("pg_ctl", ["status", "-D", DataDirectory], ct);
        if (code != 0) return false;
        string[] lines;
        try { lines = await File.ReadAllLinesAsync(pidFile, ct); }
        catch (IOException) { return false; }
        if (lines.Length < 4 || !int.TryParse(lines[3], out var port)) return false;
        Port = port;
        StartedByUs = false;
        _log.LogInformation("Using the embedded PostgreSQL already running on 127.0.0.1:{Port} ({Dir})", Port, DataDirectory);
        return true;
    }

    private static bool IsRoot => Environment.UserName == "root";

    private Task<(int Code, string Output)> RunAsync(string tool, string[] args, CancellationToken ct)
    {
        var exe = Path.Combine(_binDir, tool);
        return IsRoot ? RunRawAsync("runuser", ["-u", SystemUser, "--", exe, .. args], ct) : RunRawAsync(exe, args, ct);
    }

    private static async Task<(int Code, string Output)> RunRawAsync(string file, string[] args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The server inherits this; a folder the postgres user can read keeps it from complaining.
            WorkingDirectory = "/",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}");
        p.StandardInput.Close();
        // pg_ctl start leaves the server holding inherited pipes open; read until the tool itself exits.
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        var output = await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(2000, ct)) is Task<string[]> both
            ? string.Join('\n', both.Result)
            : "";
        return (p.ExitCode, output);
    }

    private static string? FindBinDirectory()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "initdb")))
                return ResolveLink(dir);
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root)
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "pg_ctl")) && File.Exists(Path.Combine(d, "initdb")))
            .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    // Debian's /usr/bin/pg_ctl is a wrapper script; the real binaries live beside the versioned postgres.
    private static string ResolveLink(string dir)
    {
        var target = new FileInfo(Path.Combine(dir, "initdb")).ResolveLinkTarget(returnFinalTarget: true);
        return target is null ? dir : Path.GetDirectoryName(target.FullName) ?? dir;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
