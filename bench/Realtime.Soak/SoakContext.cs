using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Realtime.Soak;

/// <summary>What every user shares: options, tokens, the groups' assembled logs, the recorder and the Sync counters.</summary>
public sealed class SoakContext(SoakOptions options)
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly JsonWebTokenHandler _tokens = new();
    private readonly SymmetricSecurityKey _key = new(Encoding.UTF8.GetBytes(options.Secret));

    public SoakOptions Options => options;

    /// <summary>Prefix of this run's user ids.</summary>
    public string RunId { get; } = $"s{DateTime.UtcNow:HHmmss}{Random.Shared.Next(1000):000}";

    public Recorder Recorder { get; } = new((int)options.Duration.TotalSeconds + 600);

    /// <summary>The groups' ids in creation order (set once they exist).</summary>
    public string[] GroupIds { get; set; } = [];

    public readonly ConcurrentDictionary<string, GroupLog> Logs = new(StringComparer.Ordinal);

    /// <summary>Every SendMessage answered with a seq: the log must hold exactly that message there, once.</summary>
    public readonly ConcurrentBag<(string GroupId, long Seq, string ClientMsgId)> Acked = [];

    /// <summary>Sync calls per reason (reconnect, gap, final): calls, pages, items, items not seen before, failures.</summary>
    public readonly ConcurrentDictionary<string, long[]> Syncs = new();

    public GroupLog Log(string groupId) => Logs.GetOrAdd(groupId, id => new GroupLog(id));

    public void CountSync(string reason, int pages, int items, int fresh, bool failed)
    {
        var c = Syncs.GetOrAdd(reason, _ => new long[5]);
        lock (c)
        {
            c[0]++;
            c[1] += pages;
            c[2] += items;
            c[3] += fresh;
            if (failed) c[4]++;
        }
    }

    public string Token(string user) => _tokens.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = options.App,
        Claims = new Dictionary<string, object> { ["sub"] = user },
        Expires = DateTime.UtcNow.Add(options.Duration).AddHours(2),
        SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
    });
}
