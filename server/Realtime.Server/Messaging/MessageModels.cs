using System.Text.Json;

namespace Realtime.Server.Messaging;

/// <summary>A group message: text and/or any JSON payload; clientMsgId makes a resend harmless.</summary>
public sealed record SendMessageRequest(string? GroupId, string? Text = null, JsonElement? Payload = null, string? ClientMsgId = null);

public sealed record SendMessageResult(long Seq, Guid MessageId, DateTime SentAt);
