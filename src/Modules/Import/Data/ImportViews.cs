using Modules.Import.Exports;
using Kernel.Http;
using System.Text.Json.Serialization;
using Kernel.Ids;

namespace Modules.Import.Data;

/// <summary>An import's status (spec §3.7); <see cref="Errors"/> only on <c>GET /api/leads/imports/:id</c>.</summary>
internal sealed class ImportView
{
    [TypeId(IdPrefix.Import)] public Guid Id { get; init; }

    /// <summary><c>queued</c>, <c>running</c>, <c>completed</c> or <c>failed</c>.</summary>
    [OneOf(typeof(ExportStatus))] public string Status { get; init; } = "";

    public string FileName { get; init; } = "";

    /// <summary>Data rows in the file (header and blank lines not counted); null until the job has read the file once.</summary>
    public long? TotalRows { get; init; }

    /// <summary>Rows read so far: always <c>created + skipped + failed</c>.</summary>
    public long ProcessedRows { get; init; }

    /// <summary>Leads written (for a dry run: that would be written).</summary>
    public long Created { get; init; }

    /// <summary>Of <see cref="Created"/>, those flagged as duplicates.</summary>
    public long Duplicates { get; init; }

    /// <summary>Duplicates not written because of <c>onDuplicate=skip</c>.</summary>
    public long Skipped { get; init; }

    /// <summary>Rows rejected (see <see cref="Errors"/> and <see cref="ErrorsUrl"/>).</summary>
    public long Failed { get; init; }

    /// <summary>The first 100 rejected rows, in file order.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ImportErrorView>? Errors { get; set; }

    /// <summary>CSV of every rejected row: its original columns plus <c>line</c> and <c>error</c>.</summary>
    public string ErrorsUrl => $"/api/leads/imports/{TypeId.Format(IdPrefix.Import, Id)}/errors";

    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }

    /// <summary>Why a failed import stopped; null otherwise.</summary>
    public string? FailureReason { get; init; }

    public bool DryRun { get; init; }

    /// <summary><c>flag</c> or <c>skip</c>.</summary>
    public string OnDuplicate { get; init; } = "";

    [TypeId(IdPrefix.Source)] public Guid? SourceId { get; init; }
}

/// <summary>A rejected row: the physical line it starts on, and why.</summary>
internal sealed record ImportErrorView(long Line, string Message);

/// <summary>SQL shared by the status and list slices.</summary>
internal static class ImportReads
{
    public const string Columns = """
        id, status, file_name, total_rows, processed_rows, created, duplicates, skipped, failed, created_at, started_at,
        finished_at, failure_reason, dry_run, on_duplicate, source_id
        """;
}
