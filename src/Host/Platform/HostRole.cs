namespace Leads.Host.Platform;

/// <summary><c>--role api|worker|all</c>: API nodes serve HTTP and enqueue jobs, worker nodes run them.</summary>
internal sealed record HostRole(string Name)
{
    public bool ServesApi => Name is "api" or "all";
    public bool RunsJobs => Name is "worker" or "all";

    public static HostRole Parse(string? value) => (value ?? "all").ToLowerInvariant() switch
    {
        "api" => new("api"),
        "worker" => new("worker"),
        "all" => new("all"),
        _ => throw new ArgumentException($"--role must be api, worker or all (got '{value}')."),
    };
}
