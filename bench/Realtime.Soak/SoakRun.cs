using System.Diagnostics;
using System.Text.Json;

namespace Realtime.Soak;

/// <summary>A user's part in the run: its home group, its role there, and the memberships only it changes.</summary>
public sealed class Role
{
    public int Home;
    public int Rank;              // 0 = owner, 1 = admin, then members
    public int ApplyGroup = -1;   // ranks ≥ 4: applies to this group and quits it again
    public bool IsGuest;          // currently a member of ApplyGroup (as far as its answers said)
    public int[] Pool = [];       // owners: the users they invite into their group and remove again
    public readonly HashSet<int> Invited = [];
}

/// <summary>
/// Sets up the groups, runs the paced mixed load for the given minutes while bench/soak.sh injects the faults, then
/// syncs every terminal, checks the logs and writes the report.
/// </summary>
public static class SoakRun
{
    private const string Filler = "the quick brown fox jumps over the lazy dog while the soak goes on and on";

    public static async Task<bool> RunAsync(SoakOptions o)
    {
        var ctx = new SoakContext(o);
        var nodes = o.Urls.Length;
        using var samplerStop = new CancellationTokenSource();
        var sampler = new Sampler(o.Pidfiles, o.CsvFile);
        var sampling = Task.Run(() => sampler.RunAsync(samplerStop.Token));

        // Users and their groups: group 0 is the busiest (30% of the users), the rest share the others.
        var roles = Plan(o.Users, o.Groups);
        var users = Enumerable.Range(0, o.Users).Select(i => new SoakUser(ctx, $"{ctx.RunId}-u{i}", i)).ToArray();
        var frozenUser = new SoakUser(ctx, $"{ctx.RunId}-frozen", o.Users);
        Clock.Log($"connecting {users.Length} users to {nodes} node(s)");
        await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (u, _) => await u.ConnectAsync(u.Index % nodes));

        Clock.Log($"creating {o.Groups} Public groups (FreeAccess); group 1 is the busiest and has the frozen reader");
        var groupIds = new string[o.Groups];
        for (var g = 0; g < o.Groups; g++)
        {
            var members = Enumerable.Range(0, o.Users).Where(i => roles[i].Home == g).OrderBy(i => roles[i].Rank).ToList();
            var owner = users[members[0]];
            var invitees = members.Skip(1).Select(i => users[i].Id).ToList();
            if (g == 0) invitees.Add(frozenUser.Id);
            var created = await owner.CallAsync("CreateGroup", [new
            {
                type = "Public", name = $"soak {ctx.RunId} {g + 1}", applyJoinOption = "FreeAccess", members = invitees, requestId = $"create-{g}",
            }], CancellationToken.None);
            if (created.Error is not null) throw new InvalidOperationException($"CreateGroup failed: {created.Error}");
            groupIds[g] = created.Result.GetProperty("groupId").GetString()!;
            var admin = await owner.CallAsync("UpdateMember", [new { groupId = groupIds[g], userId = users[members[1]].Id, role = "Admin" }], CancellationToken.None);
            if (admin.Error is not null) throw new InvalidOperationException($"UpdateMember failed: {admin.Error}");
        }
        ctx.GroupIds = groupIds;

        // The load.
        using var stop = new CancellationTokenSource();
        Clock.Start();
        if (o.StartedFile is not null) await File.WriteAllTextAsync(o.StartedFile, Clock.StartUnixMs.ToString());
        Clock.Log($"load: {o.Users} users, target {o.Rate} commands/s in all, for {o.Minutes} min");
        var frozen = new FrozenReader(ctx, frozenUser.Id, o.FrozenNode);
        var frozenTask = Task.Run(() => frozen.RunAsync(stop.Token));
        var period = TimeSpan.FromSeconds((double)o.Users / o.Rate);
        var loops = users.Select(u => Task.Run(() => ActLoopAsync(ctx, u, roles, users, period, stop.Token))).ToList();
        var gapLoops = users.Select(u => Task.Run(() => GapLoopAsync(u, stop.Token))).ToList();
        var progress = Task.Run(() => ProgressAsync(ctx, users, sampler, stop.Token));

        await Task.Delay(o.Duration);
        var loadSeconds = Clock.Seconds;
        stop.Cancel();
        Clock.Log("load stopped; waiting for the commands in flight");
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(_ => { }, TaskScheduler.Default);
        await Task.WhenAll([.. gapLoops, frozenTask, progress]).WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);

        // Everyone back online, then the final Sync from each terminal's cursors.
        for (var i = 0; i < 60 && users.Any(u => !u.Connected && !u.GaveUp); i++) await Task.Delay(1000);
        await Task.Delay(3000);
        Clock.Log("final Sync of every terminal");
        var finalOk = new bool[users.Length];
        await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (u, _) => finalOk[u.Index] = await u.FinalSyncAsync());
        // The frozen reader's user, from a fresh terminal: Sync from zero.
        await frozenUser.ConnectAsync(o.FrozenNode);
        var frozenSynced = await frozenUser.FinalSyncAsync();

        // Where each group's log ends: its owner's GetJoinedGroups.
        var lastSeqs = new long[o.Groups];
        var owners = Enumerable.Range(0, o.Groups).Select(g => users[Enumerable.Range(0, o.Users).First(i => roles[i].Home == g && roles[i].Rank == 0)]).ToArray();
        for (var g = 0; g < o.Groups; g++)
        {
            var owner = owners[g];
            var joined = await owner.CallAsync("GetJoinedGroups", [new { offset = 0, limit = 100 }], CancellationToken.None);
            if (joined.Error is not null) throw new InvalidOperationException($"GetJoinedGroups failed: {joined.Error}");
            lastSeqs[g] = joined.Result.GetProperty("groups").EnumerateArray()
                .First(j => j.GetProperty("groupId").GetString() == groupIds[g]).GetProperty("lastSeq").GetInt64();
        }
        Clock.Log($"group lastSeqs: {string.Join(", ", lastSeqs)}; checking");
        var verdict = Verifier.Check(ctx, [.. users, frozenUser], groupIds, [.. owners.Select(u => u.Id)], lastSeqs, finalOk.Append(frozenSynced).ToArray());

        samplerStop.Cancel();
        await sampling.ContinueWith(_ => { }, TaskScheduler.Default);
        await Parallel.ForEachAsync(users.Append(frozenUser), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (u, _) => await u.StopAsync());

        var faults = Faults.Read(o.FaultsFile);
        Report.Write(ctx, users, roles, frozen, sampler, faults, verdict, loadSeconds, lastSeqs);
        return verdict.Ok;
    }

    /// <summary>
    /// Homes: 30% of the users in group 0, the rest spread evenly. In each group rank 0 owns it and rank 1 is admin.
    /// Churn without races, each membership changed by one party only: users of rank ≥ 4 apply to the next group and
    /// quit it again; the owner of group g invites ranks 2–3 of group g+2 and removes them again.
    /// </summary>
    private static Role[] Plan(int users, int groups)
    {
        var roles = new Role[users];
        var busiest = (int)Math.Round(users * 0.3);
        var ranks = new int[groups];
        for (var i = 0; i < users; i++)
        {
            var home = i < busiest ? 0 : 1 + (i - busiest) % (groups - 1);
            roles[i] = new Role { Home = home, Rank = ranks[home]++ };
        }
        for (var i = 0; i < users; i++)
        {
            var r = roles[i];
            if (r.Rank >= 4) r.ApplyGroup = (r.Home + 1) % groups;
            if (r.Rank == 0)
                r.Pool = [.. Enumerable.Range(0, users).Where(j => roles[j].Home == (r.Home + 2) % groups && roles[j].Rank is 2 or 3)];
        }
        return roles;
    }

    /// <summary>
    /// One user's paced loop: every period (users/rate s, with the start spread) one command; no catch-up bursts when
    /// late. Mix: 72% SendMessage, 5% UpdateGroupProfile (owners/admins; others read), 6% churn
    /// (ApplyToJoin/QuitGroup or InviteMembers/RemoveMembers), 17% GetMembers/GetJoinedGroups.
    /// </summary>
    private static async Task ActLoopAsync(SoakContext ctx, SoakUser u, Role[] roles, SoakUser[] users, TimeSpan period, CancellationToken stop)
    {
        var role = roles[u.Index];
        var random = new Random(u.Index * 7919 + 1);
        var home = ctx.GroupIds[role.Home];
        var periodTicks = (long)(period.TotalSeconds * Stopwatch.Frequency);
        var next = Stopwatch.GetTimestamp() + (long)(random.NextDouble() * periodTicks);
        for (var k = 0; !stop.IsCancellationRequested; k++)
        {
            var wait = next - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                try { await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), stop); }
                catch (OperationCanceledException) { return; }
            }
            next = Math.Max(next + periodTicks, Stopwatch.GetTimestamp() - periodTicks);

            var dice = random.NextDouble();
            if (dice < 0.72)
            {
                var groupId = role.IsGuest && random.NextDouble() < 0.3 ? ctx.GroupIds[role.ApplyGroup] : home;
                var clientMsgId = $"{u.Id}-m{k}";
                var t0 = Stopwatch.GetTimestamp();
                var text = $"soak {k} {Filler[..(20 + random.Next(Filler.Length - 20))]}";
                var (result, error) = await TimedAsync(ctx, u, "SendMessage", [new { groupId, text, payload = new { t0, k }, clientMsgId }], stop);
                if (error is null) ctx.Acked.Add((groupId, result.GetProperty("seq").GetInt64(), clientMsgId));
            }
            else if (dice < 0.77)
            {
                if (role.Rank <= 1)
                    await TimedAsync(ctx, u, "UpdateGroupProfile", [new { groupId = home, notification = $"notice {k} by {u.Id}", requestId = $"{u.Id}-p{k}" }], stop);
                else
                    await TimedAsync(ctx, u, "GetMembers", [new { groupId = home, offset = 0, limit = 50 }], stop);
            }
            else if (dice < 0.83 && role.ApplyGroup >= 0)
            {
                var target = ctx.GroupIds[role.ApplyGroup];
                if (!role.IsGuest)
                {
                    var (_, error) = await TimedAsync(ctx, u, "ApplyToJoin", [new { groupId = target, message = "soak", requestId = $"{u.Id}-a{k}" }], stop,
                        resolved: "AlreadyMember");
                    if (error is null or "AlreadyMember") role.IsGuest = true;
                }
                else
                {
                    var (_, error) = await TimedAsync(ctx, u, "QuitGroup", [target], stop, resolved: "NotMember");
                    if (error is null or "NotMember") role.IsGuest = false;
                }
            }
            else if (dice < 0.83 && role.Pool.Length > 0)
            {
                var who = role.Pool[random.Next(role.Pool.Length)];
                var target = users[who].Id;
                if (!role.Invited.Contains(who))
                {
                    var (result, error) = await TimedAsync(ctx, u, "InviteMembers", [new { groupId = home, userIds = new[] { target }, requestId = $"{u.Id}-i{k}" }], stop);
                    if (error is null && result.EnumerateArray().All(r => r.GetProperty("result").GetString() is "Joined" or "AlreadyMember")) role.Invited.Add(who);
                }
                else
                {
                    var (_, error) = await TimedAsync(ctx, u, "RemoveMembers", [new { groupId = home, userIds = new[] { target }, reason = "soak churn", requestId = $"{u.Id}-r{k}" }], stop,
                        resolved: "NotMember");
                    if (error is null or "NotMember") role.Invited.Remove(who);
                }
            }
            else if (random.NextDouble() < 0.5)
            {
                await TimedAsync(ctx, u, "GetMembers", [new { groupId = home, offset = 0, limit = 50 }], stop);
            }
            else
            {
                await TimedAsync(ctx, u, "GetJoinedGroups", [new { offset = 0, limit = 100 }], stop);
            }
        }
    }

    /// <summary>
    /// Invokes and records. <paramref name="resolved"/>: an error code that only says "the earlier attempt did it"
    /// (AlreadyMember after an apply whose answer was lost): counted as success, and separately.
    /// </summary>
    private static async Task<(JsonElement Result, string? Error)> TimedAsync(
        SoakContext ctx, SoakUser u, string method, object?[] args, CancellationToken stop, string? resolved = null)
    {
        var t0 = Stopwatch.GetTimestamp();
        var (result, error, retried) = await u.CallAsync(method, args, stop);
        if (error == "Stopped") return (result, error);
        var ms = Clock.Ms(t0, Stopwatch.GetTimestamp());
        if (error is not null && error == resolved)
        {
            ctx.Recorder.Retries.AddOrUpdate($"{method} answered {error} (state already changed by an earlier attempt)", 1, (_, n) => n + 1);
            ctx.Recorder.Command(method, ms, null);
        }
        else
        {
            ctx.Recorder.Command(method, ms, error);
        }
        if (retried && error is null) ctx.Recorder.Retries.AddOrUpdate($"{method} succeeded on the retry", 1, (_, n) => n + 1);
        return (result, error);
    }

    /// <summary>A client that sees a gap in a stream for more than 2 s asks Sync for it.</summary>
    private static async Task GapLoopAsync(SoakUser u, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
                if (u.Connected && u.HasOldGap()) await u.SyncAllAsync("gap", stop);
        }
        catch (OperationCanceledException)
        {
            // the load is over
        }
    }

    private static async Task ProgressAsync(SoakContext ctx, SoakUser[] users, Sampler sampler, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(30));
        var r = ctx.Recorder;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var now = r.Slot(Clock.Seconds);
                var from = Math.Max(0, now - 30);
                double ok = 0, failed = 0, live = 0;
                for (var s = from; s < now; s++) { ok += r.CommandsOk[s]; failed += r.CommandsFailed[s]; live += r.LiveDeliveries[s]; }
                var span = Math.Max(1, now - from);
                var sample = sampler.Latest;
                var rss = sample is null ? "" : string.Join(", ", sampler.Names.Zip(sample.RssMb, (n, m) => $"{n} {m:0} MB"));
                var gaps = ctx.Syncs.TryGetValue("gap", out var g) ? g[0] : 0;
                Clock.Log($"{ok / span:0} commands/s ({failed:0} failed in 30 s), {live / span:0} live pushes/s, " +
                          $"{users.Count(u => u.Connected)}/{users.Length} connected, gap syncs {gaps}; {rss}; load {sample?.Load1:0.00}");
            }
        }
        catch (OperationCanceledException)
        {
            // the load is over
        }
    }
}
