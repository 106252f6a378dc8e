using Npgsql;

namespace Kernel.Data;

/// <summary>
/// Re-runs a whole transaction when PostgreSQL aborted it to break a deadlock or a serialisation conflict.
/// The work must be a complete transaction (open, lock, write, commit) so a retry starts from scratch.
/// </summary>
public static class Retry
{
    public static async Task<T> OnConflictAsync<T>(Func<Task<T>> transaction, Func<Exception, Exception> exhausted, int attempts = 5)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await transaction();
            }
            catch (PostgresException e) when (e.SqlState is Db.SqlState.DeadlockDetected or Db.SqlState.SerializationFailure)
            {
                if (attempt >= attempts) throw exhausted(e);
                await Task.Delay(Random.Shared.Next(5, 25 * attempt));
            }
        }
    }
}
