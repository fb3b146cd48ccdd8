using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Realtime.Server.Callbacks;

namespace Realtime.Server.WebPush;

/// <summary>
/// What one user's browser gets (SPEC §7): the JSON the push gateway gets, narrowed to that user (`users: [me]`, or
/// only my `items`), trimmed to fit one aes128gcm record of 4096 bytes: 4096 - 86 (header) - 16 (tag) - 1 (padding
/// delimiter) = 3993 bytes of UTF-8. Trimming drops a message's JSON payload first, then shortens its text, then
/// drops system items from the end, and marks the body `truncated: true`; the client syncs for the rest.
/// </summary>
public static class WebPushPayload
{
    public const int MaxBytes = 4096 - 86 - 16 - 1;

    // Not the HTML-safe default: a push body is no HTML, and escaping every non-ASCII letter would triple its size.
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The body for <paramref name="user"/> out of the gateway's body.</summary>
    public static string For(JsonObject gatewayBody, string user)
    {
        var body = (JsonObject)gatewayBody.DeepClone();
        if (body["users"] is JsonArray) body["users"] = new JsonArray(user);
        if (body["items"] is JsonArray items)
            body["items"] = new JsonArray([.. items.Where(i => i?["user"]?.GetValue<string>() == user).Select(i => i!.DeepClone())]);
        return Fit(body);
    }

    public static string Fit(JsonObject body)
    {
        if (Fits(body, out var text)) return text;
        body["truncated"] = true;
        if (body["message"]?["data"] is JsonObject data)
        {
            data.Remove("payload");
            if (Fits(body, out text)) return text;
            if (data["text"]?.GetValue<string>() is { } full)
            {
                // The longest prefix (whole code points) that fits.
                var runes = full.EnumerateRunes().ToArray();
                int low = 0, high = runes.Length;
                while (low < high)
                {
                    var mid = (low + high + 1) / 2;
                    data["text"] = Prefix(runes, mid);
                    if (Fits(body, out _)) low = mid;
                    else high = mid - 1;
                }
                data["text"] = Prefix(runes, low);
                if (Fits(body, out text)) return text;
            }
        }
        if (body["items"] is JsonArray items)
        {
            while (items.Count > 1 && !Fits(body, out _)) items.RemoveAt(items.Count - 1);
            if (Fits(body, out text)) return text;
            if (items.Count == 1 && items[0]?["message"] is JsonObject message) message["data"] = new JsonObject();
            if (Fits(body, out text)) return text;
        }
        // Nothing of the event fits: say that there is one.
        var minimal = new JsonObject { ["appId"] = body["appId"]?.DeepClone(), ["deliveryId"] = body["deliveryId"]?.DeepClone(), ["kind"] = body["kind"]?.DeepClone(), ["truncated"] = true };
        return minimal.ToJsonString(Compact);
    }

    /// <summary>The urgency of a body's kind: a system message may need the user now; a group message can wait for the device's next wake-up.</summary>
    public static Lib.Net.Http.WebPush.PushMessageUrgency UrgencyOf(string kind) =>
        kind == OfflinePush.SystemMessageKind ? Lib.Net.Http.WebPush.PushMessageUrgency.High : Lib.Net.Http.WebPush.PushMessageUrgency.Normal;

    private static bool Fits(JsonObject body, out string text)
    {
        text = body.ToJsonString(Compact);
        return Encoding.UTF8.GetByteCount(text) <= MaxBytes;
    }

    private static string Prefix(Rune[] runes, int count)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++) sb.Append(runes[i].ToString());
        return sb.ToString();
    }
}
