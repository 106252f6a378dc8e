using Kernel.Security;
using Kernel.Http;
using Kernel.Ids;

namespace Modules.Access.Data;

/// <summary>Spec §2 member shape.</summary>
internal sealed class UserView
{
    [TypeId(IdPrefix.User)] public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Email { get; init; } = "";
    [OneOf(typeof(MemberRoles))] public string Role { get; init; } = "";
    public DateTime CreatedAt { get; init; }
}
