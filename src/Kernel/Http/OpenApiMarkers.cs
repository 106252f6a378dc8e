using System.Reflection;

namespace Kernel.Http;

/// <summary>
/// A string property whose value is one of a closed set, published as an OpenAPI <c>enum</c>. The set is the
/// given type's public static <c>All</c> (a string collection) or else its public <c>const string</c> fields, so
/// the document and the code share one list.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class OneOfAttribute(Type values) : Attribute
{
    public IReadOnlyList<string> Values { get; } = Read(values);

    private static string[] Read(Type t)
    {
        if (t.GetField("All", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is IEnumerable<string> all) return [.. all];
        return [.. t.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)];
    }
}

/// <summary>
/// Endpoint metadata (<c>Options(b =&gt; b.WithMetadata(new EntityTagged(…)))</c>): the response carries
/// <c>ETag</c>, and, when <paramref name="acceptsIfMatch"/>, the request may send <c>If-Match</c> and get
/// 412 <c>precondition_failed</c>. The OpenAPI conventions read it; nothing else does.
/// </summary>
public sealed class EntityTagged(bool acceptsIfMatch, bool onEverySuccess = true)
{
    public bool AcceptsIfMatch { get; } = acceptsIfMatch;

    /// <summary><c>false</c> when some successful answers carry no version (a merge's dry run: nothing was committed).</summary>
    public bool OnEverySuccess { get; } = onEverySuccess;
}
