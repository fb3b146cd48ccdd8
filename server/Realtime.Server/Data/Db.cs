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
}
