using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Realtime.Server.Errors;
using Realtime.Server.Operations;
using Realtime.Server.WebPush;

namespace Realtime.UnitTests.WebPush;

/// <summary>The pure parts of Web Push (SPEC §7): endpoint and key rules, the SSRF address check, payload trimming, VAPID keys.</summary>
public sealed class WebPushRulesTests
{
    private static readonly WebPushOptions Production = new();
    private static readonly WebPushOptions Tests = new() { AllowLoopbackHttp = true };

    [Theory]
    [InlineData("https://fcm.googleapis.com/fcm/send/abc:def")]
    [InlineData("https://updates.push.services.mozilla.com/wpush/v2/gAAAA")]
    [InlineData("https://web.push.apple.com/QGq1")]
    [InlineData("https://8.8.8.8/x")]
    public void Endpoint_PushServiceUrl_Accepted(string endpoint) => Assert.Equal(endpoint, PushSubscriptionRules.Endpoint(endpoint, Production));

    [Theory]
    [InlineData("http://127.0.0.1:9/x")]
    [InlineData("http://[::1]:9/x")]
    [InlineData("https://127.0.0.1/x")]
    public void Endpoint_Loopback_OnlyWhereConfigurationAllows(string endpoint)
    {
        Assert.Equal(endpoint, PushSubscriptionRules.Endpoint(endpoint, Tests));
        AssertInvalid(() => PushSubscriptionRules.Endpoint(endpoint, Production));
    }

    [Theory]
    [InlineData("http://push.example.com/x")]
    [InlineData("http://10.0.0.1/x")]
    [InlineData("https://10.0.0.1/x")]
    [InlineData("https://192.168.1.1/x")]
    [InlineData("https://100.64.0.1/x")]
    [InlineData("https://169.254.169.254/latest")]
    [InlineData("https://[fe80::1]/x")]
    [InlineData("https://[::ffff:10.0.0.1]/x")]
    [InlineData("https://2130706433/x")]
    [InlineData("https://localhost/x")]
    [InlineData("https://a.localhost/x")]
    [InlineData("https://u@push.example.com/x")]
    [InlineData("https://push.example.com/x#y")]
    [InlineData("wss://push.example.com/x")]
    [InlineData("/relative")]
    [InlineData("")]
    public void Endpoint_NotAPushServiceUrl_InvalidArgument(string endpoint)
    {
        AssertInvalid(() => PushSubscriptionRules.Endpoint(endpoint, Production));
    }

    [Fact]
    public void Endpoint_AllowedHostSuffixes_OnlyThoseHosts()
    {
        var options = new WebPushOptions { AllowedHostSuffixes = [".googleapis.com"] };
        PushSubscriptionRules.Endpoint("https://fcm.googleapis.com/x", options);
        AssertInvalid(() => PushSubscriptionRules.Endpoint("https://evil.example.com/x", options));
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("2a00:1450:4001::200e", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.1.1", false)]
    [InlineData("172.31.0.1", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("169.254.1.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fc00::1", false)]
    [InlineData("::ffff:192.168.0.1", false)]
    [InlineData("64:ff9b::a00:1", false)]
    public void IsPublic_Address_OnlyPublicInternet(string address, bool expected) =>
        Assert.Equal(expected, EndpointGuard.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void Keys_BrowserKeys_AcceptedAndOthersRefusedNamingTheField()
    {
        var (publicKey, _) = VapidKeys.Generate(); // any P-256 point serves as a browser's key
        var auth = Convert.ToBase64String(new byte[16]).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal((publicKey, auth), PushSubscriptionRules.Keys(new PushSubscriptionKeys(publicKey, auth)));
        Assert.Contains("keys.p256dh", AssertInvalid(() => PushSubscriptionRules.Keys(new PushSubscriptionKeys(publicKey[..^2] + "AA", auth))));
        Assert.Contains("keys.auth", AssertInvalid(() => PushSubscriptionRules.Keys(new PushSubscriptionKeys(publicKey, auth + "AA"))));
        Assert.Contains("keys", AssertInvalid(() => PushSubscriptionRules.Keys(null)));
    }

    [Fact]
    public void Fit_HugeGroupMessage_TrimmedToOneRecordKeepingWholeCodePoints()
    {
        var text = string.Concat(Enumerable.Repeat("字🎉", 3000));
        var body = JsonNode.Parse(JsonSerializer.Serialize(new
        {
            appId = "a",
            deliveryId = Guid.NewGuid(),
            kind = "GroupMessage",
            users = new[] { "u" },
            message = new { groupId = "g", seq = 5, type = "Message", data = new { messageId = Guid.NewGuid(), sender = "s", text, payload = new { big = new string('p', 5000) } } },
        }))!.AsObject();

        var fitted = WebPushPayload.Fit(body);

        Assert.InRange(Encoding.UTF8.GetByteCount(fitted), WebPushPayload.MaxBytes - 8, WebPushPayload.MaxBytes);
        var json = JsonDocument.Parse(fitted).RootElement;
        Assert.True(json.GetProperty("truncated").GetBoolean());
        var data = json.GetProperty("message").GetProperty("data");
        Assert.False(data.TryGetProperty("payload", out _));
        Assert.StartsWith(data.GetProperty("text").GetString()!, text, StringComparison.Ordinal);
        Assert.Equal("s", data.GetProperty("sender").GetString());
    }

    [Fact]
    public void For_SystemItems_OnlyTheUsersOwnAndUntouchedWhenSmall()
    {
        var body = JsonNode.Parse("""{"appId":"a","deliveryId":"d","kind":"SystemMessage","items":[{"user":"x","message":{"type":"Kicked"}},{"user":"y","message":{"type":"JoinedGroup"}}]}""")!.AsObject();

        var json = JsonDocument.Parse(WebPushPayload.For(body, "y")).RootElement;

        var item = Assert.Single(json.GetProperty("items").EnumerateArray());
        Assert.Equal("JoinedGroup", item.GetProperty("message").GetProperty("type").GetString());
        Assert.False(json.TryGetProperty("truncated", out _));
        Assert.Equal(2, body["items"]!.AsArray().Count); // the gateway's body is left as it was
    }

    [Fact]
    public void VapidKeysCommand_PrintsAPairTheServerAccepts()
    {
        var output = new StringWriter();
        Assert.Equal(0, VapidKeysCommand.Run(["--app", "shop"], output, TextWriter.Null));
        var settings = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var app = new WebPushAppSettings
        {
            PublicKey = settings["Realtime__Apps__shop__WebPush__PublicKey"],
            PrivateKey = settings["Realtime__Apps__shop__WebPush__PrivateKey"],
            Subject = settings["Realtime__Apps__shop__WebPush__Subject"],
        };
        Assert.Null(VapidKeys.ProblemOf(app));
        Assert.Equal(2, VapidKeysCommand.Run(["--bogus"], TextWriter.Null, TextWriter.Null));
    }

    [Fact]
    public void ProblemOf_MismatchedPair_Refused()
    {
        var (publicKey, _) = VapidKeys.Generate();
        var (_, otherPrivate) = VapidKeys.Generate();
        Assert.Contains("not the public half", VapidKeys.ProblemOf(new WebPushAppSettings { PublicKey = publicKey, PrivateKey = otherPrivate, Subject = "mailto:a@b.c" }));
        var (pub, priv) = VapidKeys.Generate();
        Assert.Contains("Subject", VapidKeys.ProblemOf(new WebPushAppSettings { PublicKey = pub, PrivateKey = priv }));
    }

    private static string AssertInvalid(Action act)
    {
        var e = Assert.Throws<RealtimeException>(act);
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        return e.Message;
    }
}
