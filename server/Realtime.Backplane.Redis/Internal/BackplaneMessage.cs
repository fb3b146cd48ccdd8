using System.Text;
using Microsoft.AspNetCore.SignalR;

namespace Realtime.Backplane.Redis.Internal;

internal enum BackplaneMessageKind : byte
{
    Invocation = 1,
    GroupCommand = 2,
    Ack = 3,
    /// <summary>A node's own message to a channel it just subscribed to: hearing it proves the subscription.</summary>
    Probe = 5,
}

internal enum GroupAction : byte
{
    Add = 1,
    Remove = 2,
    /// <summary>Close the target connections (the group name is unused).</summary>
    Close = 3,
    /// <summary>On a group's channel: change nothing, ack once every earlier message of the channel was handled.</summary>
    Fence = 4,
}

/// <summary>A hub message already serialized by every protocol, plus connections to skip.</summary>
internal sealed record InvocationPayload(IReadOnlyList<string> ExcludedConnectionIds, IReadOnlyList<SerializedMessage> Messages);

/// <summary>
/// "Put the target in/out of a group, then ack to AckServer". The target is whoever the channel
/// reaches (a connection, or all connections of a user), or, on the group's own channel, the
/// members that <see cref="Only"/> names.
/// </summary>
internal sealed record GroupCommand(long Id, string AckServer, GroupAction Action, string GroupName, MemberFilter? Only = null);

/// <summary>Members of one user (ByUser) or one connection.</summary>
internal sealed record MemberFilter(bool ByUser, string Key);

// A tiny length-prefixed binary format: one kind byte, then the fields. Nodes of one deployment
// run the same build, so no versioning beyond the kind byte.
internal static class BackplaneMessage
{
    public static byte[] WriteInvocation(IReadOnlyList<string>? excludedConnectionIds, IReadOnlyList<SerializedMessage> messages)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write((byte)BackplaneMessageKind.Invocation);
            var excluded = excludedConnectionIds ?? [];
            writer.Write(excluded.Count);
            foreach (var id in excluded)
            {
                writer.Write(id);
            }

            writer.Write(messages.Count);
            foreach (var message in messages)
            {
                writer.Write(message.ProtocolName);
                writer.Write(message.Serialized.Length);
                writer.Write(message.Serialized.Span);
            }
        }

        return stream.ToArray();
    }

    public static byte[] WriteGroupCommand(GroupCommand command)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write((byte)BackplaneMessageKind.GroupCommand);
            writer.Write(command.Id);
            writer.Write(command.AckServer);
            writer.Write((byte)command.Action);
            writer.Write(command.GroupName);
            writer.Write(command.Only is not null);
            if (command.Only is { } only)
            {
                writer.Write(only.ByUser);
                writer.Write(only.Key);
            }
        }

        return stream.ToArray();
    }

    public static byte[] WriteProbe(long id, string serverName)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write((byte)BackplaneMessageKind.Probe);
            writer.Write(id);
            writer.Write(serverName);
        }

        return stream.ToArray();
    }

    public static (long Id, string ServerName) ReadProbe(byte[] payload)
    {
        using var reader = OpenAfterKind(payload);
        return (reader.ReadInt64(), reader.ReadString());
    }

    public static byte[] WriteAck(long id)
    {
        var bytes = new byte[9];
        bytes[0] = (byte)BackplaneMessageKind.Ack;
        BitConverter.TryWriteBytes(bytes.AsSpan(1), id);
        return bytes;
    }

    public static BackplaneMessageKind ReadKind(byte[] payload) =>
        payload.Length == 0 ? 0 : (BackplaneMessageKind)payload[0];

    public static InvocationPayload ReadInvocation(byte[] payload)
    {
        using var reader = OpenAfterKind(payload);
        var excludedCount = reader.ReadInt32();
        var excluded = new string[excludedCount];
        for (var i = 0; i < excludedCount; i++)
        {
            excluded[i] = reader.ReadString();
        }

        var messageCount = reader.ReadInt32();
        var messages = new SerializedMessage[messageCount];
        for (var i = 0; i < messageCount; i++)
        {
            var protocol = reader.ReadString();
            var length = reader.ReadInt32();
            messages[i] = new SerializedMessage(protocol, reader.ReadBytes(length));
        }

        return new InvocationPayload(excluded, messages);
    }

    public static GroupCommand ReadGroupCommand(byte[] payload)
    {
        using var reader = OpenAfterKind(payload);
        var id = reader.ReadInt64();
        var ackServer = reader.ReadString();
        var action = (GroupAction)reader.ReadByte();
        var group = reader.ReadString();
        var only = reader.ReadBoolean() ? new MemberFilter(reader.ReadBoolean(), reader.ReadString()) : null;
        return new GroupCommand(id, ackServer, action, group, only);
    }

    public static long ReadAck(byte[] payload) => BitConverter.ToInt64(payload, 1);

    private static BinaryReader OpenAfterKind(byte[] payload) =>
        new(new MemoryStream(payload, 1, payload.Length - 1, writable: false), Encoding.UTF8);
}
