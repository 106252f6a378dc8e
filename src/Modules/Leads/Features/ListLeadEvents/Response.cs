using Kernel.Security;
using Kernel.Http;
using System.Text.Json.Nodes;
using Kernel.Ids;

namespace Modules.Leads.Features.ListLeadEvents;

internal sealed class ActorView
{
    /// <summary><c>api_key</c>, <c>webhook</c>, <c>import</c> or <c>system</c>.</summary>
    [OneOf(typeof(ActorTypes))] public string Type { get; init; } = "";
    public string? Id { get; init; }
    public string? Name { get; init; }
}

internal sealed class EventView
{
    [TypeId(IdPrefix.Event)] public Guid Id { get; init; }
    public string Type { get; init; } = "";
    public JsonObject Data { get; init; } = new();
    public ActorView Actor { get; set; } = new();
    public DateTime CreatedAt { get; init; }
}
