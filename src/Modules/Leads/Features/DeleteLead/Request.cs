using Dapper;
using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.DeleteLead;

internal sealed class Request
{
    [RouteParam] public string Id { get; init; } = "";
}
