using Modules.Leads.Public;

namespace Modules.Leads.Features.ListLeads;

/// <summary>
/// <c>page</c> is null when the page was asked for by cursor. <c>nextCursor</c> continues after this page's last lead in the
/// same order (null on the last page); following it returns each lead that existed throughout and kept its sort key exactly once.
/// </summary>
internal sealed record ListPagination(int? Page, int Limit, long Total, long Pages, string? NextCursor);

internal sealed record Response(IReadOnlyList<LeadListItem> Data, ListPagination Pagination);
