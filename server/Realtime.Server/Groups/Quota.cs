using Dapper;
using Realtime.Server.Apps;
using Realtime.Server.Commands;
using Realtime.Server.Errors;

namespace Realtime.Server.Groups;

/// <summary>
/// Group quotas (SPEC §3): net creations per UTC day and live groups per app. Checked and
/// counted under the app's row locks, so racing creates never overshoot. Taken after the
/// users' rows in every command: one lock order.
/// </summary>
public static class Quota
{
    public static async Task ConsumeAsync(CommandScope s, AppSettings app)
    {
        // NO KEY UPDATE: rows referencing the app (groups, users) hold KEY SHARE on it, which
        // FOR UPDATE would have to wait out — two creates would deadlock upgrading.
        var args = new { s.AppId, day = DateOnly.FromDateTime(s.Now) };
        var total = await s.Connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT group_count FROM apps WHERE app_id = @AppId FOR NO KEY UPDATE", args, s.Transaction));
        var net = await s.Connection.ExecuteScalarAsync<int>(new CommandDefinition("""
            INSERT INTO app_daily_quota (app_id, day) VALUES (@AppId, @day)
            ON CONFLICT (app_id, day) DO UPDATE SET created = app_daily_quota.created
            RETURNING created - dissolved
            """, args, s.Transaction));
        if (net >= app.DailyGroupQuota)
            throw new RealtimeException(ErrorCode.QuotaExceeded, $"the app may create at most {app.DailyGroupQuota} groups (net) per UTC day");
        if (total >= app.TotalGroupQuota)
            throw new RealtimeException(ErrorCode.QuotaExceeded, $"the app may have at most {app.TotalGroupQuota} groups");
        await s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE apps SET group_count = group_count + 1 WHERE app_id = @AppId;
            UPDATE app_daily_quota SET created = created + 1 WHERE app_id = @AppId AND day = @day;
            """, args, s.Transaction));
    }

    /// <summary>A dissolved group frees a slot of today's net quota and of the total.</summary>
    public static Task ReleaseAsync(CommandScope s) =>
        s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE apps SET group_count = group_count - 1 WHERE app_id = @AppId;
            INSERT INTO app_daily_quota (app_id, day, dissolved) VALUES (@AppId, @day, 1)
            ON CONFLICT (app_id, day) DO UPDATE SET dissolved = app_daily_quota.dissolved + 1;
            """, new { s.AppId, day = DateOnly.FromDateTime(s.Now) }, s.Transaction));
}
