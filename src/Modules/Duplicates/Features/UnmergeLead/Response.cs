using Modules.Leads.Public;

namespace Modules.Duplicates.Features.UnmergeLead;

/// <param name="Survivor">The survivor after giving back what the merge gave it.</param>
/// <param name="Restored">The merged-away lead, back as it was when merged.</param>
internal sealed record Response(LeadDetail Survivor, LeadDetail Restored);
