using Hangfire;
using Hangfire.Common;
using Hangfire.Dashboard;

namespace Modules.Import.Jobs;

/// <summary>
/// Names a job on the dashboard with its object's TypeID (<c>Import imp_01h… (leads.csv)</c>): the <see cref="Guid"/>
/// arguments are shown as TypeIDs with <paramref name="prefix"/>, as the API and the logs show them, never as raw UUIDs.
/// </summary>
internal sealed class TypeIdDisplayNameAttribute(string format, string prefix) : JobDisplayNameAttribute(format)
{
    public override string Format(DashboardContext context, Job job) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, DisplayName,
            [.. job.Args.Select(a => a is Guid g ? Kernel.Ids.TypeId.Format(prefix, g) : a)]);
}
