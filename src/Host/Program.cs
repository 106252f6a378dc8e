using FastEndpoints;
using FastEndpoints.Swagger;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Kernel.Data;
using Kernel.Http;
using Leads.Host;
using Leads.Host.Database;
using Leads.Host.Platform;
using Leads.Host.Platform.OpenApi;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Modules.Access;
using Modules.Access.Public;
using Modules.Duplicates;
using Modules.Import;
using Modules.Leads;
using Modules.Tags;
using Modules.Webhooks;
using Npgsql;

if (Cli.IsVerb(args)) return await Cli.RunAsync(args);

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.ClearProviders();
// Development (appsettings.Development.json): one short readable line per entry; otherwise JSON lines with scopes (trace id).
if (builder.Configuration["Logging:Format"] == "simple") builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss ";
});
else builder.Logging.AddJsonConsole(o =>
{
    o.IncludeScopes = true;
    o.UseUtcTimestamp = true;
    o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
});
// Logs carry no credentials or personal data at any level by default (docs/operations.md, "Logs"): request paths
// hold webhook tokens, query strings hold search terms. ASP.NET Core's request-start/finish lines and its request
// scope (RequestPath on every line) come from this category — off, the scope is not even created; routing and
// Kestrel name paths and request lines in their debug output. Trace and span IDs still tie a request's lines together.
builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
builder.Logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.AspNetCore.HttpLogging", LogLevel.None);
builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls("http://localhost:5080");
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestHeadersTotalSize = 32 * 1024);

var role = HostRole.Parse(builder.Configuration["role"]);
using var bootLogs = LoggerFactory.Create(l => l.AddSimpleConsole(o => o.SingleLine = true));
var bootLog = bootLogs.CreateLogger("startup");
DatabaseBootstrap database;
try
{
    database = await DatabaseBootstrap.StartAsync(builder.Configuration, bootLog);
}
catch (PostgresUnavailableException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
var migrate = builder.Configuration.GetValue("Database:MigrateOnStartup", true);
if (migrate) await DatabaseBootstrap.MigrateAsync(database.ConnectionString, bootLog);

Db.ConfigureDapper();
builder.Services.AddSingleton(TimeProvider.System);
// JIT compilation costs more than it saves on these short queries (measured: +100 ms on a 30k-row search
// count at 1M leads); turn it off on the application's own connections, whatever the server's default.
// The short, hot statements (key lookups, list and stats) get a pool of their own, two connections per core
// (Database:HotPoolSize): more backends than cores only queue in the kernel instead of in the pool, and a backend
// descheduled while it holds a buffer spinlock makes the others sleep on it with growing back-off. Measured at 16
// concurrent list requests on 2 cores (docs/benchmarks.md): pool 100 → p99 86–195 ms at p50 5–12 ms; 8 → 28 ms;
// 4 → 20 ms; 2 → 36 ms. Requests beyond the pool wait their turn, in order, without holding a thread.
var hotPoolSize = builder.Configuration.GetValue("Database:HotPoolSize", 2 * Environment.ProcessorCount);
NpgsqlDataSource OpenDataSource(string connectionString, string name, bool stateless = false, bool unpooled = false)
{
    var csb = new NpgsqlConnectionStringBuilder(connectionString);
    if (unpooled)
    {
        csb.Pooling = false;
        csb.ApplicationName = name;
    }
    csb.Options = string.IsNullOrWhiteSpace(csb.Options) ? "-c jit=off" : csb.Options + " -c jit=off";
    // Statements a connection runs again and again are prepared once per connection (unless the connection string
    // says otherwise). Besides the planning of those statements (0.31 ms for the lead detail read alone), it spares the
    // triggers': a pooled connection is reset with DISCARD ALL when nothing is prepared, which also throws away every
    // plan PL/pgSQL cached, so each intake planned its trigger statements again (~1 ms of planning per lead in all;
    // docs/benchmarks.md, "Intake"). With prepared statements the reset keeps plans.
    var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
    if (!given.Keys.Cast<string>().Any(k => k.Replace(" ", "").Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        csb.MaxAutoPrepare = 64;
    if (stateless)
    {
        csb.NoResetOnClose = true;
        csb.MaxPoolSize = Math.Min(csb.MaxPoolSize, hotPoolSize);
    }
    return new NpgsqlDataSourceBuilder(csb.ConnectionString) { Name = name }.Build();
}
builder.Services.AddSingleton(_ => OpenDataSource(database.ConnectionString, "leads"));
builder.Services.AddSingleton(_ => new StatelessDataSource(OpenDataSource(database.ConnectionString, "leads-stateless", stateless: true)));
// Bulk actions' chunk streams: connections of their own, never pooled with the API's, whose backends run at a lower CPU
// priority when the cluster is this host's embedded one (Bulk:BackendNice; an external server's processes are not ours
// to renice, docs/operations.md).
builder.Services.AddSingleton(sp => new BackgroundDataSource(OpenDataSource(database.ConnectionString, "leads-bulk", unpooled: true),
    database.Embedded is not null ? ImportModule.BulkBackendNice(builder.Configuration) : 0, sp.GetRequiredService<ILogger<BackgroundDataSource>>()));
builder.Services.AddSingleton(sp =>
{
    if (builder.Configuration.GetConnectionString("LeadsRead") is not { Length: > 0 } configured)
        return new ReadDataSource(sp.GetRequiredService<StatelessDataSource>().Source, sp.GetRequiredService<NpgsqlDataSource>());
    var replica = MultiHost.ForReads(configured);
    var bulk = OpenDataSource(replica, "leads-read-bulk");
    return new ReadDataSource(OpenDataSource(replica, "leads-read", stateless: true), bulk, ownsSources: true);
});
builder.Services
    .AddAccessModule(builder.Configuration)
    .AddLeadsModule(builder.Configuration)
    .AddTagsModule(builder.Configuration)
    .AddDuplicatesModule(builder.Configuration)
    .AddImportModule(builder.Configuration)
    .AddWebhooksModule(builder.Configuration);
builder.Services.AddSingleton<KeyRateLimiter>().AddSingleton<TransferLimiter>();
builder.Services.AddSingleton<PublishedDocument>();
// For the Hangfire dashboard: Hangfire.AspNetCore puts a token in its pages and checks it on every POST (delete,
// requeue, trigger) once IAntiforgery is registered. The API needs none (a header key, never a cookie, authenticates
// it), so its endpoints opt out below: registering antiforgery otherwise gives FastEndpoints' form and file-upload
// routes antiforgery metadata that ASP.NET Core's endpoint middleware refuses to run without UseAntiforgery (a 500).
builder.Services.AddAntiforgery(o =>
{
    o.Cookie.Name = "leads.dashboard.af";
    o.Cookie.Path = "/hangfire";
    o.Cookie.SameSite = SameSiteMode.Strict;
    o.Cookie.HttpOnly = true;
});
builder.AddTelemetry();
builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
builder.Services.AddFastEndpoints(o =>
{
    o.DisableAutoDiscovery = true;
    o.Assemblies = [AccessModule.Assembly, LeadsModule.Assembly, TagsModule.Assembly, DuplicatesModule.Assembly, ImportModule.Assembly, WebhooksModule.Assembly];
});
builder.Services.SwaggerDocument(o =>
{
    o.ShortSchemaNames = true;
    o.EnableJWTBearerAuth = false;
    o.DocumentSettings = s =>
    {
        s.SchemaSettings.SchemaNameGenerator = new SliceSchemaNameGenerator();
        s.SchemaSettings.SchemaProcessors.Add(new TypeIdSchemaProcessor());
        s.SchemaSettings.SchemaProcessors.Add(new OneOfSchemaProcessor());
        s.SchemaSettings.SchemaProcessors.Add(new PresenceSchemaProcessor());
        JsonTypeMappers.AddTo(s.SchemaSettings);
        // One flat schema per type: `allOf` beside `additionalProperties: false` would refuse the base type's fields.
        s.SchemaSettings.FlattenInheritanceHierarchy = true;
        s.DocumentName = "v1";
        s.Title = "Leads API";
        s.Version = "v1";
        s.Description = "Multi-tenant lead management. Authenticate with `X-API-Key: <key>` or `Authorization: ApiKey <key>`.";
        s.AddAuth("ApiKey", new NSwag.OpenApiSecurityScheme
        {
            Type = NSwag.OpenApiSecuritySchemeType.ApiKey,
            Name = "X-API-Key",
            In = NSwag.OpenApiSecurityApiKeyLocation.Header,
            Description = "A workspace API key (5l_live_…). `Authorization: ApiKey <key>` is accepted too.",
        });
    };
});
// The storage is this host's own DI singleton, never Hangfire's process-wide JobStorage.Current: several
// hosts in one process (the test run; an API node beside a worker node) must each talk to their database.
var hangfireOptions = new PostgreSqlStorageOptions
{
    SchemaName = DatabaseBootstrap.HangfireSchema,
    PrepareSchemaIfNecessary = false,
    UseSlidingInvisibilityTimeout = true,
    InvisibilityTimeout = TimeSpan.FromMinutes(5),
    QueuePollInterval = TimeSpan.FromSeconds(1),
    // Hangfire's own locks are rows in hangfire.lock, held for a poll or a state change (well under a second here; no job
    // uses [DisableConcurrentExecution]), and a row whose holder's connection died — a failover at the wrong moment, or
    // an insert that committed on the old primary and reached the standby while its client saw the connection break — is
    // only removed once older than this. Hangfire.PostgreSql's 10-minute default then stalled the scheduler, and with it
    // the retry of the import the failover interrupted, for 10 minutes (bench/cluster/failover-kill9.sh).
    DistributedLockTimeout = TimeSpan.FromMinutes(1),
};
builder.Services.AddSingleton<JobStorage>(new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(database.ConnectionString, hangfireOptions), hangfireOptions));
// Likewise the activator that builds a job's services: Hangfire's default is the process-wide JobActivator.Current, i.e.
// whichever host was configured last, so a job could run on another host's services and database.
builder.Services.AddSingleton<JobActivator>(sp => new Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
// And Hangfire's log provider, a static too: it must outlive no host (Platform/HangfireLogs).
builder.Services.AddSingleton<HangfireLogs.Attachment>();
builder.Services.AddHangfire((sp, c) => c
    .UseLogProvider(sp.GetRequiredService<HangfireLogs.Attachment>().Provider)
    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
    .UseSimpleAssemblyNameTypeSerializer()
    .UseRecommendedSerializerSettings());
JobTracingFilter.Register();
if (role.RunsJobs && builder.Configuration.GetValue("Hangfire:Server", true))
{
    builder.Services.AddHangfireServer(o =>
    {
        o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:default";
        o.Queues = ["default"];
        o.WorkerCount = Math.Max(2, Environment.ProcessorCount);
    });
    // CSV imports get a server of their own with a small worker count, so bulk work never takes every worker
    // (or every database connection) from the short jobs on `default`.
    builder.Services.AddHangfireServer(o =>
    {
        o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{ImportModule.Queue}";
        o.Queues = [ImportModule.Queue];
        o.WorkerCount = ImportModule.WorkerCount(builder.Configuration);
    });
    // Async exports on a queue and workers of their own: a big import never holds every tenant's exports back.
    builder.Services.AddHangfireServer(o =>
    {
        o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{ImportModule.ExportQueue}";
        o.Queues = [ImportModule.ExportQueue];
        o.WorkerCount = ImportModule.ExportWorkerCount(builder.Configuration);
    });
    // Bulk actions by filter (spec §12): one at a time per node on a queue of their own, so a 100,000-lead action
    // neither waits behind an import nor holds one back, and leaves the API its database connections.
    builder.Services.AddHangfireServer(o =>
    {
        o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{ImportModule.BulkQueue}";
        o.Queues = [ImportModule.BulkQueue];
        o.WorkerCount = 1;
    });
    builder.Services.AddImportWorker();
    builder.Services.AddDuplicatesWorker();
    // Webhook deliveries on their own queue and workers: a slow or dead receiver holds one webhook worker for at most
    // its timeout, never an import, an export or the API.
    builder.Services.AddHangfireServer(o =>
    {
        o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{WebhooksModule.Queue}";
        o.Queues = [WebhooksModule.Queue];
        o.WorkerCount = WebhooksModule.WorkerCount(builder.Configuration);
    });
    builder.Services.AddWebhooksWorker();
}

var app = builder.Build();
app.Lifetime.ApplicationStopped.Register(() => database.DisposeAsync().AsTask().GetAwaiter().GetResult());

if (migrate)
{
    var boot = await app.Services.GetRequiredService<KeyProvisioning>().BootstrapAsync();
    if (boot is not null)
        Console.Out.WriteLine($"""

            ================================================================================
             First start: created workspace 'default' with an owner and one full-scope key.
             It is shown this once and stored only as a hash:

                 {boot.Key}

             Try: curl -H 'X-API-Key: {boot.Key}' http://localhost:5080/api/users
            ================================================================================

            """);
}

app.UseMiddleware<ProblemMiddleware>();
app.UseMetricsEndpoint();
// GET/HEAD/DELETE carry no body in this API; many clients still send Content-Type: application/json on them,
// which would make the endpoint try to read an empty JSON body and answer 400. Ignore it there.
app.Use((ctx, next) =>
{
    var method = ctx.Request.Method;
    var empty = ctx.Request.ContentLength is null or 0 && !ctx.Request.Headers.ContainsKey("Transfer-Encoding");
    if ((HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsDelete(method)) && empty)
        ctx.Request.ContentType = null;
    // A write with no body at all reads as an empty JSON object, so the endpoint's own validation answers
    // (a 400 naming the missing fields) instead of a bare 415.
    else if ((HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method)) && empty && ctx.Request.ContentType is null)
    {
        ctx.Request.ContentType = "application/json";
        ctx.Request.Body = new MemoryStream("{}"u8.ToArray());
        ctx.Request.ContentLength = 2;
    }
    return next(ctx);
});
// Spec §7: lead data (and everything else under /api) must never be cached by browsers or proxies.
app.Use((ctx, next) =>
{
    if (ctx.Request.Path.StartsWithSegments("/api")) ctx.Response.Headers.CacheControl = "no-store";
    return next(ctx);
});
app.UseStatusCodePages(StatusCodeProblems.WriteAsync);
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
app.UseAuthentication();
app.UseMiddleware<RateLimitMiddleware>();
app.UseAuthorization();
app.UseMiddleware<UnknownQueryParameters>();
app.UseIdempotencyKeys();
if (role.ServesApi)
{
    app.UseFastEndpoints(c =>
    {
        JsonConventions.Apply(c.Serializer.Options);
        c.Errors.ContentType = Problems.ContentType;
        c.Errors.ProducesMetadataType = typeof(ProblemBody);
        c.Errors.ResponseBuilder = ValidationProblems.Build;
        // One text rule for every string of every request, whichever endpoint (Kernel/Http/TextRule).
        c.Endpoints.Configurator = ep =>
        {
            ep.PreProcessor<TextRulePreProcessor>(Order.Before);
            ep.Options(b => b.DisableAntiforgery());
        };
        c.Serializer.SerializerErrorsField = ValidationProblems.SerializerErrorsField;
    });
    // The published document is NSwag's, shaped by the operation conventions (docs/openapi.md) and served as is.
    app.MapGet(PublishedDocument.Path, async (PublishedDocument d) => Results.Text(await d.JsonAsync(), "application/json; charset=utf-8"))
        .ExcludeFromDescription();
    app.UseSwaggerUi(ui =>
    {
        ui.Path = "/swagger";
        ui.DocumentPath = PublishedDocument.Path;
    });
}
BulkJobsDashboardPage.Register();
app.UseHangfireDashboard("/hangfire", new DashboardOptions
{
    DashboardTitle = "Leads jobs",
    DisplayStorageConnectionString = false,
    AsyncAuthorization = [new DashboardAuthorization(builder.Configuration["Hangfire:DashboardPassword"], requirePassword: !app.Environment.IsDevelopment())],
});

await app.RunAsync();
return 0;

/// <summary>Entry point type, public so the test host (WebApplicationFactory) can find it.</summary>
public partial class Program;
