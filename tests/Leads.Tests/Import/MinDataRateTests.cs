using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Leads.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Leads.Tests.Import;

/// <summary>
/// The host on a real Kestrel socket (the test server enforces no data rates), with a 512 KiB/s floor after 2 s of grace.
/// Kestrel measures an upload's rate over all bytes read so far (while the endpoint waits for more), so after a fast
/// first megabyte a trickle drops under 4 KiB/s only after 256 s; under 512 KiB/s it does after 2 s. A download may take
/// N / rate for the N bytes it has handed to the socket so far: with ~4 MB in socket buffers a reader that stops is cut
/// off after ~8 s at 512 KiB/s (17 minutes at 4 KiB/s). Loopback clients at full speed are far above either floor.
/// </summary>
public sealed class KestrelApiFactory : ApiFactory
{
    public KestrelApiFactory() => UseKestrel(0);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Transfers:MinBytesPerSecond"] = "524288",
        ["Transfers:MinRateGrace"] = "00:00:02",
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        StartServer();
    }

    /// <summary>A plain client over the socket (the contract-validating client is bound to the in-memory test server).</summary>
    /// <remarks>
    /// Its socket's receive buffer is fixed at 64 KiB: loopback would otherwise grow it to tens of megabytes, and a reader
    /// that reads nothing would still receive a whole test-sized file.
    /// </remarks>
    public HttpClient SocketClient(string key)
    {
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)
                {
                    NoDelay = true,
                    ReceiveBufferSize = 64 * 1024,
                };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var c = new HttpClient(handler) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(2) };
        c.DefaultRequestHeaders.Add("X-API-Key", key);
        return c;
    }
}

/// <summary>
/// Issue 16, "minimum data rates on those routes": an upload or a download slower than <c>Transfers:MinBytesPerSecond</c>
/// is cut off by Kestrel once <c>Transfers:MinRateGrace</c> has passed, and a cut-off upload leaves nothing behind.
/// </summary>
public sealed class MinDataRateTests(KestrelApiFactory api) : IClassFixture<KestrelApiFactory>
{
    /// <summary>A CSV body: the first part (over one stored piece) at once, then the rest in small pieces with pauses.</summary>
    private sealed class TrickledContent(byte[] first, int pieces, TimeSpan pause) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            for (var i = 0; i < pieces; i++)
            {
                await Task.Delay(pause);
                await stream.WriteAsync(Encoding.UTF8.GetBytes($"trickle{i}@example.com,T\n"));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    private static byte[] BigCsv()
    {
        var text = new StringBuilder("email,firstName\n");
        for (var i = 0; text.Length < (1 << 20) + 4096; i++) text.Append($"fast{i}@example.com,Fast {i} with some padding to fill the piece\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static HttpContent Csv(HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        return content;
    }

    private Task WaitUntilAsync(string sql, object args) => Wait.UntilAsync(() => api.ScalarAsync<bool>(sql, args), sql);

    [Fact]
    public async Task An_upload_trickled_below_the_floor_is_cut_off_and_leaves_no_import_and_no_piece()
    {
        var ws = await api.CreateWorkspaceAsync();
        using var client = api.SocketClient(ws.FullKey);
        // ~27 bytes every 500 ms after the first megabyte: without the floor this would run for 5 minutes.
        var body = Csv(new TrickledContent(BigCsv(), pieces: 600, pause: TimeSpan.FromMilliseconds(500)));

        var upload = client.PostAsync("/api/leads/import", body);
        await WaitUntilAsync("SELECT EXISTS (SELECT 1 FROM import.upload_chunks c JOIN import.imports i ON i.id = c.import_id WHERE i.workspace_id = @Id)", new { ws.Id });

        // Kestrel answers 408 or resets the connection, depending on where the read was when the floor was checked.
        try
        {
            var r = await upload;
            r.StatusCode.ShouldBe(HttpStatusCode.RequestTimeout);
        }
        catch (HttpRequestException)
        {
        }
        await WaitUntilAsync("SELECT NOT EXISTS (SELECT 1 FROM import.imports WHERE workspace_id = @Id)", new { ws.Id });
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.upload_chunks c WHERE NOT EXISTS (SELECT 1 FROM import.imports i WHERE i.id = c.import_id)")).ShouldBe(0);
    }

    [Fact]
    public async Task An_upload_at_full_speed_is_accepted()
    {
        var ws = await api.CreateWorkspaceAsync();
        using var client = api.SocketClient(ws.FullKey);

        var r = await client.PostAsync("/api/leads/import", Csv(new ByteArrayContent(BigCsv())));

        r.StatusCode.ShouldBe(HttpStatusCode.Accepted, await r.Content.ReadAsStringAsync());
        (await api.ScalarAsync<string>("SELECT status FROM import.imports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe("queued");
    }

    /// <summary>
    /// A completed async export whose file (16 MiB) is more than the socket buffers between server and client hold, stored
    /// (and so written to the response) in 16 KiB pieces.
    /// </summary>
    private Task<string> LargeStoredExportAsync(TestWorkspace ws) => api.StoredExportAsync(ws.Id, 1024, 16384);

    [Fact]
    public async Task A_download_read_below_the_floor_is_cut_off_and_one_read_at_speed_is_whole()
    {
        var ws = await api.CreateWorkspaceAsync();
        var exp = await LargeStoredExportAsync(ws);
        using var client = api.SocketClient(ws.ReadKey);

        using (var stalled = await client.GetAsync($"/api/leads/exports/{exp}/file", HttpCompletionOption.ResponseHeadersRead))
        {
            stalled.StatusCode.ShouldBe(HttpStatusCode.OK);
            await using var stream = await stalled.Content.ReadAsStreamAsync();
            // Reading nothing while the server's writes wait on the full socket buffers: its budget for the ~4 MB they
            // hold runs out after ~8 s.
            await Task.Delay(TimeSpan.FromSeconds(20));
            var got = new MemoryStream();
            await Should.ThrowAsync<Exception>(() => stream.CopyToAsync(got));
            got.Length.ShouldBeLessThan(16 * 1048576);
        }

        using var fast = await client.GetAsync($"/api/leads/exports/{exp}/file");
        fast.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await fast.Content.ReadAsByteArrayAsync()).Length.ShouldBe(16 * 1048576);
    }
}
