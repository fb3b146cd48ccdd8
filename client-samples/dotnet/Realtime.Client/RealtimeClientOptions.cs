using Microsoft.Extensions.Logging;

namespace Realtime.Client;

/// <summary>The hub protocols the server speaks: JSON (text) and MessagePack (binary, smaller and faster to parse).</summary>
public enum HubProtocol { Json, MessagePack }

public sealed class RealtimeClientOptions
{
    /// <summary>
    /// The nodes to connect to, tried in order: a server URL (<c>http://host:5080</c>, the hub path is added) or the hub's
    /// (<c>.../hubs/groups</c>). Behind a load balancer one URL is enough. A failed connect moves on to the next URL, and
    /// so does a dropped connection before it reconnects, so a stopped node's clients come back on another one.
    /// </summary>
    public IReadOnlyList<Uri> Urls { get; set; } = [];

    /// <summary>The user's token (HS256 JWT issued by the app's back end), asked again on every connect so it can be refreshed.</summary>
    public Func<Task<string?>>? AccessTokenProvider { get; set; }

    /// <summary>This terminal's id (1–64 chars of <c>[A-Za-z0-9_.@-]</c>), e.g. <c>ios-7f3a</c>.</summary>
    public string Device { get; set; } = "default";

    public HubProtocol Protocol { get; set; } = HubProtocol.Json;

    /// <summary>Where the cursors are kept across restarts; in memory by default.</summary>
    public ICursorStore CursorStore { get; set; } = new InMemoryCursorStore();

    /// <summary>Reconnect backoff: the first delay is about this, then it doubles (with jitter) up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Items per stream per Sync round (1–1000); the client asks again while the server says hasMore.</summary>
    public int SyncLimit { get; set; } = 100;

    /// <summary>
    /// On a first start (an empty cursor store) follow every joined group from its current lastSeq: new events only,
    /// history is <c>GetMessagesAsync</c>'s job. False: groups are found through the system stream from its start.
    /// </summary>
    public bool StartJoinedGroupsAtLastSeq { get; set; } = true;

    public ILoggerFactory? LoggerFactory { get; set; }

    internal IReadOnlyList<Uri> HubUrls() =>
        Urls.Count == 0 ? throw new ArgumentException("RealtimeClientOptions.Urls needs at least one URL")
            : Urls.Select(u => u.AbsolutePath.Trim('/').Length == 0 ? new Uri(u, "/hubs/groups") : u).ToList();
}
