using System.Data;
using Npgsql;

namespace Realtime.Server.Data;

/// <summary>The one PostgreSQL data source of the node.</summary>
public sealed class Db(NpgsqlDataSource dataSource)
{
    static Db()
    {
        // Columns are snake_case, properties PascalCase.
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    public NpgsqlDataSource DataSource { get; } = dataSource;

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct) => await DataSource.OpenConnectionAsync(ct);

    /// <summary>
    /// Runs one command in one transaction (SPEC §5.1: all or nothing). Read committed is enough:
    /// every invariant that spans rows is checked under the row locks the command takes.
    /// </summary>
    public async Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var result = await work(connection, tx);
        await tx.CommitAsync(ct);
        return result;
    }
}
