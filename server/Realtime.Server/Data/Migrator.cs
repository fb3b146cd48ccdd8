using Dapper;
using Npgsql;

namespace Realtime.Server.Data;

/// <summary>
/// Applies the embedded Data/Migrations/NNNN_name.sql files in order, each once, recorded in
/// schema_journal. An advisory lock makes nodes that start together take turns.
/// </summary>
public sealed partial class Migrator(Db db, ILogger<Migrator> logger)
{
    private const long LockKey = 0x5245_414C_5449_4D45; // "REALTIME"

    public static IReadOnlyList<(int Version, string Name, string Sql)> Scripts { get; } = LoadScripts();

    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@LockKey)", new { LockKey }, cancellationToken: ct));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                CREATE TABLE IF NOT EXISTS schema_journal (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken: ct));
            var applied = (await connection.QueryAsync<int>(new CommandDefinition(
                "SELECT version FROM schema_journal", cancellationToken: ct))).ToHashSet();

            var done = new List<int>();
            foreach (var (version, name, sql) in Scripts.Where(s => !applied.Contains(s.Version)))
            {
                await using var tx = await connection.BeginTransactionAsync(ct);
                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct));
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_journal (version, name) VALUES (@version, @name)",
                    new { version, name }, tx, cancellationToken: ct));
                await tx.CommitAsync(ct);
                LogApplied(version, name);
                done.Add(version);
            }
            return done;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@LockKey)", new { LockKey }, cancellationToken: CancellationToken.None));
        }
    }

    private static List<(int, string, string)> LoadScripts()
    {
        var assembly = typeof(Migrator).Assembly;
        var scripts = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith("migrations/", StringComparison.Ordinal)))
        {
            var name = resource["migrations/".Length..^".sql".Length];
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            scripts.Add((int.Parse(name[..name.IndexOf('_')]), name, reader.ReadToEnd()));
        }
        return scripts.OrderBy(s => s.Item1).ToList();
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Applied migration {Version} ({Name})")]
    private partial void LogApplied(int version, string name);
}
