using Dapper;

namespace Kernel.Data;

public static class Db
{
    private static int _configured;

    /// <summary>Dapper conventions, applied once per process (ARCHITECTURE: snake_case columns hydrate PascalCase members).</summary>
    public static void ConfigureDapper()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1) return;
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new JsonObjectHandler());
    }

    /// <summary>PostgreSQL SQLSTATE codes translated to clean 4xx responses.</summary>
    public static class SqlState
    {
        public const string UniqueViolation = "23505";
        public const string ForeignKeyViolation = "23503";
        public const string CheckViolation = "23514";
        public const string SerializationFailure = "40001";
        public const string DeadlockDetected = "40P01";
        public const string LockNotAvailable = "55P03";
    }
}
