using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using MessagePack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Protocol;
using Realtime.Server.Errors;

namespace Realtime.Server.Hubs;

/// <summary>
/// SPEC §4 promises that every error message starts with its code. SignalR words errors its own way, so
/// error completions are rewritten on the way out: a HubException's "… HubException: [Code] text" is cut to
/// our part, and SignalR's own binding failures ("Failed to invoke 'X' due to an error on the server. …": a
/// wrong argument count, JSON that does not bind, an unknown method) become [InvalidArgument]. A frame of an
/// unknown type, which SignalR would drop silently, closes the connection with a reason. Any other
/// error SignalR words itself concerns the client's frame and becomes [InvalidArgument] too. It wraps both hub
/// protocols: JSON and MessagePack (whose arguments have no JSON form when they hold binary or extension values,
/// non-string keys or text that is not UTF-8: [InvalidArgument] naming the field, as the JSON binder does).
/// </summary>
internal sealed class SpecErrorHubProtocol(IHubProtocol inner) : IHubProtocol
{
    private const string Marker = "HubException: [";
    private const string BindingFailure = "Failed to invoke '";

    /// <summary>The hub's client-callable methods by name (SignalR matches names ignoring case) with their argument counts.</summary>
    private static readonly Dictionary<string, int> Arity = typeof(GroupHub)
        .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Where(m => !m.IsSpecialName && m.Name is not (nameof(Hub.OnConnectedAsync) or nameof(Hub.OnDisconnectedAsync) or nameof(Hub.Dispose)))
        // Parameters the hub takes from DI ([FromServices]) are not arguments the client sends.
        .ToDictionary(m => m.Name, m => m.GetParameters().Count(p => !p.IsDefined(typeof(Microsoft.AspNetCore.Mvc.FromServicesAttribute))),
            StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// What a method's arguments are called in errors: the parameter ("request", QuitGroup's "groupId"); of a method
    /// with two, both — SignalR's binder does not say which argument failed.
    /// </summary>
    private static readonly Dictionary<string, string> ArgumentName = typeof(GroupHub)
        .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Where(m => !m.IsSpecialName)
        .ToDictionary(
            m => m.Name,
            m => string.Join(" or ", m.GetParameters().Where(p => !p.IsDefined(typeof(Microsoft.AspNetCore.Mvc.FromServicesAttribute))).Select(p => p.Name)),
            StringComparer.OrdinalIgnoreCase);

    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        var before = input;
        try
        {
            if (inner.TryParseMessage(ref input, binder, out message))
            {
                message = WithFieldNamed(message);
                return true;
            }
        }
        catch (InvalidDataException e) when (e.InnerException is JsonException json)
        {
            // SignalR says only "Error reading JSON."; the reason (e.g. nested past 64 levels) goes in the close message.
            throw new InvalidDataException($"the frame is not valid hub protocol JSON: {json.Message}", e);
        }
        if (input.Length == before.Length) return false; // an incomplete frame: wait for more bytes
        // A whole frame was consumed and nothing came of it: a message type this protocol does not know.
        throw new InvalidDataException(
            $"unsupported message type {TypeOf(before.Slice(0, before.Length - input.Length))}: this server speaks the {inner.Name} hub protocol, version {inner.Version}");
    }

    /// <summary>A MessagePack argument with no JSON form: the binding failure says which field, with the spec's code.</summary>
    private static HubMessage WithFieldNamed(HubMessage message)
    {
        if (message is not InvocationBindingFailureMessage failure) return message;
        for (var e = failure.BindingFailure.SourceException; e is not null; e = e.InnerException)
        {
            if (e is not JsonMessagePackException unreadable) continue;
            // Paths inside an object start at its field (as the JSON binder names them); an array argument's at its name.
            var field = unreadable.Path.Length > 0 && unreadable.Path[0] != '['
                ? unreadable.Path
                : ArgumentName.GetValueOrDefault(failure.Target, "request") + unreadable.Path;
            var refusal = RealtimeException.Invalid(field, unreadable.Message);
            return new InvocationBindingFailureMessage(failure.InvocationId, failure.Target, ExceptionDispatchInfo.Capture(new HubException(refusal.HubMessage)));
        }
        return message;
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => inner.WriteMessage(Rewrite(message), output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => inner.GetMessageBytes(Rewrite(message));

    internal static HubMessage Rewrite(HubMessage message)
    {
        if (message is not CompletionMessage { Error: { } error, InvocationId: { } id }) return message;
        var at = error.IndexOf(Marker, StringComparison.Ordinal);
        if (at >= 0) return CompletionMessage.WithError(id, error[(at + Marker.Length - 1)..]);
        if (error.StartsWith(BindingFailure, StringComparison.Ordinal)) return CompletionMessage.WithError(id, DescribeBindingFailure(error));
        // Every error of ours carries its code, so the rest are SignalR's words about the frame the client
        // sent (a stream invocation of a plain method, stream ids it does not take): the client's to fix.
        var own = error.IndexOf("HubException: ", StringComparison.Ordinal) is var h and >= 0 ? error[(h + 14)..] : error;
        return CompletionMessage.WithError(id, "[InvalidArgument] " + own);
    }

    private static string DescribeBindingFailure(string error)
    {
        var end = error.IndexOf('\'', BindingFailure.Length);
        var method = end > 0 ? error[BindingFailure.Length..end] : "";
        if (!Arity.TryGetValue(method, out var count)) return $"[InvalidArgument] unknown hub method '{method}'";
        // SignalR's detail after "on the server." says what did not bind (e.g. how many arguments came).
        var detail = error.IndexOf("server. ", StringComparison.Ordinal) is var d and >= 0 ? " (" + error[(d + 8)..] + ")" : "";
        return $"[InvalidArgument] {method} expected {count} argument{(count == 1 ? "" : "s")}{detail}";
    }

    private string TypeOf(ReadOnlySequence<byte> frame)
    {
        try
        {
            if (inner.TransferFormat == TransferFormat.Binary)
            {
                // A MessagePack frame: a varint length, then [type, ...].
                var reader = new MessagePackReader(frame);
                while (reader.ReadRaw(1).FirstSpan[0] >= 0x80) { }
                return reader.ReadArrayHeader() > 0 ? reader.ReadInt32().ToString(CultureInfo.InvariantCulture) : "(none)";
            }
            var json = frame.ToArray().AsSpan().TrimEnd((byte)0x1e);
            using var document = JsonDocument.Parse(json.ToArray());
            return document.RootElement.TryGetProperty("type", out var type) ? type.GetRawText() : "(none)";
        }
        catch (Exception e) when (e is JsonException or MessagePackSerializationException or EndOfStreamException)
        {
            return "(unreadable)";
        }
    }
}
