using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Npgsql;

namespace Modules.Import.Exports;

internal static class ExportStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>An async export as <c>GET /api/leads/exports/:id</c> shows it.</summary>
internal sealed class ExportView
{
    [TypeId(IdPrefix.Export)] public Guid Id { get; init; }
    /// <summary><c>queued</c>, <c>running</c>, <c>completed</c> or <c>failed</c>.</summary>
    [OneOf(typeof(ExportStatus))] public string Status { get; init; } = "";
    /// <summary>Leads in the file; set when completed.</summary>
    public long? RowCount { get; init; }
    /// <summary>Size of the file in bytes; set when completed.</summary>
    public long? ByteCount { get; init; }
    public DateTime CreatedAt { get; init; }
    /// <summary>When the current (or last) run started.</summary>
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    /// <summary>Where to download the CSV; set when completed.</summary>
    public string? FileUrl => Status == ExportStatus.Completed ? ExportUrls.File(Id) : null;
    /// <summary>Why the export failed; set when failed.</summary>
    public string? FailureReason { get; init; }
}

internal static class ExportUrls
{
    public static string Status(Guid id) => $"/api/leads/exports/{TypeId.Format(IdPrefix.Export, id)}";
    public static string File(Guid id) => Status(id) + "/file";
}

internal static class ExportProblems
{
    public const string NotFoundCode = "export_not_found";
    public const string NotReadyCode = "export_not_ready";

    public static ApiProblemException NotFound() => ApiProblemException.NotFound(NotFoundCode, "Export");

    public static ApiProblemException NotReady(string status) => new(409, NotReadyCode, "Export not ready",
        status == ExportStatus.Failed
            ? "The export failed, so there is no file; see failureReason on the export and start a new one."
            : $"The export is {status}; the file can be downloaded once its status is completed.");

    /// <summary>Path IDs: malformed or foreign-typed IDs are simply not found.</summary>
    public static Guid ParseOrNotFound(string id) => TypeId.TryParse(id, IdPrefix.Export, out var g) ? g : throw NotFound();
}

/// <summary>Reads shared by the status and download endpoints.</summary>
internal static class ExportReads
{
    private const string FindSql = """
        SELECT id, status, row_count, byte_count, created_at, started_at, finished_at, failure_reason
        FROM import.exports
        WHERE id = @Id AND workspace_id = @WorkspaceId
        """;

    /// <summary>The export, or null when it does not exist in the workspace (another workspace's is not found either).</summary>
    public static Task<ExportView?> FindAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<ExportView>(new CommandDefinition(FindSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct));
}
