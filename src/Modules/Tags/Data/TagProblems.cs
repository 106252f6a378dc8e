using Kernel.Http;

namespace Modules.Tags.Data;

internal static class TagProblems
{
    public const string TagNotFoundCode = "tag_not_found";

    public static ApiProblemException TagNotFound() => ApiProblemException.NotFound(TagNotFoundCode, "Tag");

    public static ApiProblemException LeadDoesNotCarryTag() =>
        new(404, TagNotFoundCode, "Tag not found", "The lead does not carry a tag with that ID.");
}
