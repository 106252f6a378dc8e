using System.Security.Claims;

namespace Kernel.Security;

/// <summary>Who is calling: the authenticated API key and the member and workspace behind it.</summary>
public sealed record Caller(Guid WorkspaceId, Guid KeyId, Guid MemberId, string Scope, string Role, string KeyLabel)
{
    public const string WorkspaceClaim = "ws";
    public const string KeyClaim = "key";
    public const string MemberClaim = "member";
    public const string ScopeClaim = "scope";
    public const string RoleClaim = "role";
    public const string LabelClaim = "label";

    public bool CanWrite => Scope == KeyScopes.Full;
    public bool IsAdmin => Role is MemberRoles.Owner or MemberRoles.Admin;

    public static Caller From(ClaimsPrincipal user)
    {
        string Get(string type) => user.FindFirst(type)?.Value ?? throw new InvalidOperationException($"Missing claim '{type}'.");
        return new Caller(Guid.Parse(Get(WorkspaceClaim)), Guid.Parse(Get(KeyClaim)), Guid.Parse(Get(MemberClaim)),
            Get(ScopeClaim), Get(RoleClaim), user.FindFirst(LabelClaim)?.Value ?? "");
    }
}

public static class KeyScopes
{
    public const string Read = "read";
    public const string Full = "full";
    public static readonly string[] All = [Read, Full];
}

public static class MemberRoles
{
    public const string Owner = "owner";
    public const string Admin = "admin";
    public const string Member = "member";
    public static readonly string[] All = [Owner, Admin, Member];
}

/// <summary>Authorization policy names used by endpoints in every module.</summary>
public static class AuthPolicies
{
    /// <summary>Any write: needs a <c>full</c>-scope key.</summary>
    public const string Write = "write";
    /// <summary>Admin reads: the key's member must be an owner or admin.</summary>
    public const string AdminRead = "admin-read";
    /// <summary>Admin writes: owner/admin member and a <c>full</c>-scope key.</summary>
    public const string AdminWrite = "admin-write";
}
