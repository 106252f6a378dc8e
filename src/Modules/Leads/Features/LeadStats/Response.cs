using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.LeadStats;

internal sealed class ByStatus
{
    public long New { get; init; }
    public long Contacted { get; init; }
    public long Qualified { get; init; }
    public long Converted { get; init; }
    public long Closed { get; init; }
}

internal sealed class Response
{
    public long Total { get; init; }
    public ByStatus ByStatus { get; init; } = new();
    public long Duplicates { get; init; }
    public long Unassigned { get; init; }
}
