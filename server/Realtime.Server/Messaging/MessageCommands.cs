using System.Text.Encodings.Web;
using System.Text.Json;
using Realtime.Server.Callbacks;
using Realtime.Server.Commands;
using Realtime.Server.Delivery;
using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.Server.Messaging;

/// <summary>Group messages (SPEC §2 send row, §3 body limits): stored as `Message` group events.</summary>
public sealed class MessageCommands(GroupCommit commit, BeforeCallbacks callbacks)
{
    /// <summary>Payload size is measured as compact UTF-8, without \u escapes inflating non-ASCII text.</summary>
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <param name="lane">The sending terminal (connection id): its messages to a group keep their order (GroupCommit).</param>
    public async Task<SendMessageResult> SendAsync(Actor actor, SendMessageRequest r, CancellationToken ct = default, string? lane = null)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.ClientMsgId, "clientMsgId");
        var sender = actor.RequireUser();
        // clientMsgId is the message's requestId; its own prefix keeps it apart from other methods' ids.
        var requestId = r.ClientMsgId is null ? null : "msg:" + r.ClientMsgId;
        Task Before(CancellationToken token) => callbacks.CheckAsync(actor.AppId, CallbackCommand.BeforeSendMsg, new()
        {
            ["GroupId"] = groupId, ["From_Account"] = sender, ["Text"] = r.Text, ["Payload"] = r.Payload, ["ClientMsgId"] = r.ClientMsgId,
        }, token);
        return await commit.RunAsync(actor, groupId, "SendMessage", requestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            if (g.Rules.OnlyOwnerAndAdminsSend) Access.RequireAllowed(Allowed.OwnerAndAdmins, me, actor, $"send to a {g.Type} group");
            var allowlisted = g.MuteAll && me!.Role == MemberRole.Member && await UserListRepository.ContainsAsync(s, UserList.Allowlist, g.Gid, sender);
            if (MemberRules.IsMuted(me!, g.MuteAll, allowlisted, s.Now))
                throw new RealtimeException(ErrorCode.MemberMuted, me!.MutedUntil > s.Now
                    ? $"you are muted in group {groupId} until {me.MutedUntil:O}"
                    : $"group {groupId} is muted for members");
            ValidateBody(r.Text, r.Payload);

            var messageId = Guid.CreateVersion7();
            var evt = s.AppendGroupEvent(g, GroupEventDto.MessageType, new { messageId, sender, text = r.Text, payload = r.Payload, clientMsgId = r.ClientMsgId });
            s.AfterCallback(CallbackCommand.AfterSendMsg, new()
            {
                ["GroupId"] = g.GroupId, ["Type"] = g.Type.ToString(), ["From_Account"] = sender, ["MsgSeq"] = evt.Seq,
                ["MessageId"] = messageId, ["Text"] = r.Text, ["Payload"] = r.Payload, ["ClientMsgId"] = r.ClientMsgId,
            });
            return new SendMessageResult(evt.Seq, messageId, evt.At);
        }, ct, Before, lane, checksBeforeWrites: true);
    }

    private static void ValidateBody(string? text, JsonElement? payload)
    {
        if (string.IsNullOrEmpty(text) && payload is null) throw RealtimeException.Invalid("text", "a message needs text or payload");
        if (text is not null) Validate.MaxLength(text, Validate.MessageTextMax, "text");
        if (payload is { } p && CompactSize(p) > Validate.MessagePayloadMaxBytes)
            throw RealtimeException.Invalid("payload", $"must be at most {Validate.MessagePayloadMaxBytes} bytes as compact UTF-8 JSON");
    }

    private static long CompactSize(JsonElement payload)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Compact)) payload.WriteTo(writer);
        return buffer.Length;
    }
}
