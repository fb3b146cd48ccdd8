using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Realtime.Server.Apps;

/// <summary>The configured apps, with their signing keys built once.</summary>
public sealed class AppRegistry
{
    public const string DemoAppId = "demo";
    public const string DemoSecret = "realtime-demo-development-secret-0001";

    private readonly Dictionary<string, (AppSettings Settings, SymmetricSecurityKey Key)> _apps;

    public AppRegistry(IOptions<RealtimeOptions> options, IHostEnvironment environment)
        : this(WithDemo(options.Value.Apps, environment.IsDevelopment())) { }

    public AppRegistry(IReadOnlyDictionary<string, AppSettings> apps)
    {
        _apps = new(StringComparer.Ordinal);
        foreach (var (id, settings) in apps)
        {
            // HS256 with a short key is guessable; Microsoft.IdentityModel also refuses keys under 256 bits.
            if (Encoding.UTF8.GetByteCount(settings.Secret) < 32)
                throw new InvalidOperationException($"App '{id}': the secret must be at least 32 bytes.");
            _apps[id] = (settings, new SymmetricSecurityKey(Encoding.UTF8.GetBytes(settings.Secret)) { KeyId = id });
        }
    }

    public IEnumerable<string> AppIds => _apps.Keys;

    public bool TryGet(string appId, out AppSettings settings)
    {
        var found = _apps.TryGetValue(appId, out var entry);
        settings = entry.Settings;
        return found;
    }

    public AppSettings Get(string appId) => _apps[appId].Settings;

    public SymmetricSecurityKey? KeyOf(string appId) => _apps.TryGetValue(appId, out var e) ? e.Key : null;

    private static Dictionary<string, AppSettings> WithDemo(Dictionary<string, AppSettings> configured, bool development)
    {
        var apps = new Dictionary<string, AppSettings>(configured, StringComparer.Ordinal);
        if (development && !apps.ContainsKey(DemoAppId))
            apps[DemoAppId] = new AppSettings { Secret = DemoSecret };
        return apps;
    }
}
