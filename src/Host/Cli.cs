using Kernel.Data;
using Leads.Host.Database;
using Modules.Access.Public;
using Npgsql;

namespace Leads.Host;

/// <summary>
/// CLI verbs that run against the same database as the server (with the embedded default: the same data
/// folder, whether or not the server is running). Logs go to stderr so stdout carries only the result.
/// </summary>
internal static class Cli
{
    public static bool IsVerb(string[] args) => args.Length > 0 && args[0] is "migrate" or "keys" or "psql";

    public static async Task<int> RunAsync(string[] args)
    {
        // psql's own arguments (after the verb, up to the configuration overrides) are not configuration.
        var configArgs = args[0] == "psql" ? args.Skip(1).Where(IsPsqlConfigArg).ToArray() : args.Skip(1).Where(a => !a.StartsWith("--") || IsConfigArg(a)).ToArray();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(configArgs);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        using var host = builder.Build();
        var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("cli");

        try
        {
            return args[0] switch
            {
                "migrate" => await MigrateAsync(builder.Configuration, log),
                "keys" when args.Length > 1 && args[1] == "create" => await CreateKeyAsync(builder.Configuration, log, ParseOptions(args[2..])),
                "psql" => await PsqlAsync(builder.Configuration, log, [.. args.Skip(1).Where(a => !IsPsqlConfigArg(a))]),
                _ => Usage(),
            };
        }
        catch (PostgresUnavailableException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return Usage();
        }
    }

    // Configuration overrides (--ConnectionStrings:Leads=…, --Database:DataDirectory=…) still reach the builder.
    private static bool IsConfigArg(string a) => a.Contains(':');

    // psql's own arguments may hold colons (SQL, URLs): only --Section:Key=value is configuration there.
    private static bool IsPsqlConfigArg(string a) => a.StartsWith("--", StringComparison.Ordinal) && a.Contains(':');

    private static async Task<int> MigrateAsync(IConfiguration config, ILogger log)
    {
        await using var db = await DatabaseBootstrap.StartAsync(config, log);
        await DatabaseBootstrap.MigrateAsync(db.ConnectionString, log);
        log.LogInformation("Database is up to date");
        return 0;
    }

    private static async Task<int> CreateKeyAsync(IConfiguration config, ILogger log, Dictionary<string, string> o)
    {
        if (!o.TryGetValue("workspace", out var workspace) || !o.TryGetValue("scope", out var scope))
            throw new ArgumentException("keys create needs --workspace <name> and --scope read|full");
        var role = o.GetValueOrDefault("role", "owner");
        var label = o.GetValueOrDefault("label", "cli");
        await using var db = await DatabaseBootstrap.StartAsync(config, log);
        await DatabaseBootstrap.MigrateAsync(db.ConnectionString, log);
        Db.ConfigureDapper();
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var created = await new KeyProvisioning(dataSource).CreateKeyAsync(workspace, scope, role, label);
        Console.Out.WriteLine(created.Key);
        return 0;
    }

    /// <summary>
    /// psql on the embedded cluster as its superuser (the password comes from the cluster's <c>pgpass</c> file, which
    /// only its owner and root can read); further arguments go to psql (<c>-c "SELECT 1"</c>, <c>-f file.sql</c>).
    /// </summary>
    private static async Task<int> PsqlAsync(IConfiguration config, ILogger log, string[] psqlArgs)
    {
        if (!string.IsNullOrWhiteSpace(config.GetConnectionString("Leads")))
            throw new ArgumentException("psql connects to the embedded cluster only; with ConnectionStrings:Leads set, run psql against that server.");
        await using var db = await DatabaseBootstrap.StartAsync(config, log);
        var psi = new System.Diagnostics.ProcessStartInfo("psql") { UseShellExecute = false };
        foreach (var (k, v) in db.Embedded!.LibpqEnvironment(config["Database:Name"] is { Length: > 0 } n ? n : "leads")) psi.Environment[k] = v;
        foreach (var a in psqlArgs) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException("Could not start psql");
        await p.WaitForExitAsync();
        return p.ExitCode;
    }

    private static Dictionary<string, string> ParseOptions(string[] args)
    {
        var o = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--") || args[i].Contains(':')) continue;
            var name = args[i][2..];
            if (i + 1 >= args.Length || args[i + 1].StartsWith("--")) throw new ArgumentException($"--{name} needs a value");
            o[name] = args[++i];
        }
        return o;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("""
            usage:
              Leads.Host migrate
              Leads.Host keys create --workspace <name> --scope read|full [--role owner|admin|member] [--label <text>]
              Leads.Host psql [psql arguments…]
            """);
        return 64;
    }
}
