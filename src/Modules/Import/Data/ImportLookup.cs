using Kernel.Http;
using Kernel.Ids;

namespace Modules.Import.Data;

/// <summary>Path IDs of imports: malformed, foreign-typed, unknown and other workspaces' IDs are all 404 <c>import_not_found</c>.</summary>
internal static class ImportLookup
{
    public static Guid ParseOrNotFound(string id) => TypeId.TryParse(id, IdPrefix.Import, out var g) ? g : throw NotFound();

    public static ApiProblemException NotFound() => ApiProblemException.NotFound("import_not_found", "Import");
}
