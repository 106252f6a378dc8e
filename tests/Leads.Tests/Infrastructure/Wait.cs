namespace Leads.Tests.Infrastructure;

/// <summary>Polls for something another task or the server does in its own time (a backend ending, a lock wait).</summary>
public static class Wait
{
    /// <summary>Returns once <paramref name="condition"/> holds; throws when it has not within 30 s.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 600; i++)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("Never happened: " + what);
    }
}
