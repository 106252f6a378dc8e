using System.Buffers;
using System.Text;
using Kernel.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Npgsql;

namespace Modules.Import.Features.StartImport;

/// <summary>What was received: the file's name and size, and its first chunk (for the header check).</summary>
internal sealed record Received(string FileName, long Size, byte[] Prefix);

/// <summary>
/// Streams the request body — a raw <c>text/csv</c> body or the <c>file</c> part of a multipart form — into
/// <c>import.upload_chunks</c> in 1 MiB pieces as they arrive, each committed on a connection taken for that one
/// statement: nothing is buffered whole, and no connection or transaction waits on the client's pace. The import
/// stays <c>uploading</c> (invisible) meanwhile; the endpoint deletes it if the upload breaks off or is refused, and
/// the sweep (<c>UploadSweep</c>) deletes one whose process died.
/// </summary>
internal sealed class Upload(NpgsqlDataSource db, Guid importId, long maxBytes)
{
    public const int ChunkBytes = 1 << 20;
    private const int MaxFormFieldBytes = 4096;

    private static readonly string[] RawTypes = ["text/csv", "application/csv", "text/plain", "application/vnd.ms-excel", "application/octet-stream"];

    public async Task<Received> ReceiveAsync(HttpRequest request, Request options, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type))
            throw UnsupportedType();
        if (type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return await ReceiveMultipartAsync(request, type, options, ct);
        if (!RawTypes.Any(t => type.MediaType.Equals(t, StringComparison.OrdinalIgnoreCase)))
            throw UnsupportedType();
        var name = ContentDispositionHeaderValue.TryParse(request.Headers.ContentDisposition.ToString(), out var cd) ? FileNameOf(cd) : null;
        var (size, prefix) = await CopyAsync(request.Body, ct);
        return new Received(CleanFileName(options.FileName ?? name), size, prefix);
    }

    private async Task<Received> ReceiveMultipartAsync(HttpRequest request, MediaTypeHeaderValue type, Request options, CancellationToken ct)
    {
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) throw UnsupportedType();
        // No per-section cap from the reader: the file part is limited by Import:MaxBytes as it streams.
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
        Received? file = null;
        MultipartSection? section;
        while ((section = await reader.ReadNextSectionAsync(ct)) is not null)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd) || !cd.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)) continue;
            var field = HeaderUtilities.RemoveQuotes(cd.Name).Value ?? "";
            if (field == "file" && file is null)
            {
                var (size, prefix) = await CopyAsync(section.Body, ct);
                file = new Received(FileNameOf(cd) ?? "", size, prefix);
            }
            else if (Request.Names.Contains(field))
            {
                options.Set(field, await ReadFieldAsync(section.Body, field, ct));
            }
        }
        if (file is null)
            throw ApiProblemException.Validation("file", "Send the CSV in the multipart field 'file' (or as a raw text/csv body).");
        return file with { FileName = CleanFileName(options.FileName ?? file.FileName) };
    }

    private async Task<(long Size, byte[] Prefix)> CopyAsync(Stream body, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            long size = 0;
            var seq = 0;
            byte[]? prefix = null;
            while (true)
            {
                var filled = 0;
                int read;
                while (filled < ChunkBytes && (read = await body.ReadAsync(buffer.AsMemory(filled, ChunkBytes - filled), ct)) > 0)
                    filled += read;
                if (filled == 0) break;
                size += filled;
                if (size > maxBytes) throw TooLarge(maxBytes);
                await Data.WriteChunkAsync(db, importId, seq++, buffer.AsMemory(0, filled), ct);
                prefix ??= buffer.AsSpan(0, filled).ToArray();
                if (filled < ChunkBytes) break;
            }
            return (size, prefix ?? []);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<string> ReadFieldAsync(Stream body, string field, CancellationToken ct)
    {
        var buffer = new byte[MaxFormFieldBytes + 1];
        var length = 0;
        int read;
        while (length <= MaxFormFieldBytes && (read = await body.ReadAsync(buffer.AsMemory(length, buffer.Length - length), ct)) > 0)
            length += read;
        if (length > MaxFormFieldBytes) throw ApiProblemException.Validation(field, $"{field} is too long.");
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    private static string? FileNameOf(ContentDispositionHeaderValue cd)
    {
        var star = cd.FileNameStar.Value;
        return string.IsNullOrEmpty(star) ? HeaderUtilities.RemoveQuotes(cd.FileName).Value : star;
    }

    /// <summary>The last path segment, without control characters, at most 255 characters; <c>upload.csv</c> if nothing is left.</summary>
    internal static string CleanFileName(string? name)
    {
        var last = (name ?? "").Split('/', '\\').Last();
        var clean = new string(last.Where(c => !char.IsControl(c)).ToArray()).Trim();
        if (clean.Length > 255) clean = clean[..255];
        return clean.Length == 0 ? "upload.csv" : clean;
    }

    public static ApiProblemException TooLarge(long maxBytes) => new(413, ProblemCodes.PayloadTooLarge, "Payload too large",
        $"The file is larger than {maxBytes:N0} bytes, the most one import accepts.");

    private static ApiProblemException UnsupportedType() => new(415, ProblemCodes.UnsupportedMediaType, "Unsupported media type",
        "Send the CSV as multipart/form-data (field 'file') or as a raw text/csv body.");
}
