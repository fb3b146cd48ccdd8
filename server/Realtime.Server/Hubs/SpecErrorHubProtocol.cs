using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Realtime.Server.Hubs;

/// <summary>
/// SPEC §4 promises that every error message starts with its code. SignalR words errors its own way, so
/// error completions are rewritten on the way out: a HubException's "… HubException: [Code] text" is cut to
/// our part, and SignalR's own binding failures ("Failed to invoke 'X' due to an error on the server. …": a
/// wrong argument count, JSON that does not bind, an unknown method) become [InvalidArgument]. A frame of an
/// unknown type, which SignalR would drop silently, closes the connection with a reason. Any other
/// error SignalR words itself concerns the client's frame and becomes [InvalidArgument] too.
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

    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        var before = input;
        try
        {
            if (inner.TryParseMessage(ref input, binder, out message)) return true;
        }
        catch (InvalidDataException e) when (e.InnerException is JsonException json)
        {
            // SignalR says only "Error reading JSON."; the reason (e.g. nested past 64 levels) goes in the close message.
            throw new InvalidDataException($"the frame is not valid hub protocol JSON: {json.Message}", e);
        }
        if (input.Length == before.Length) return false; // an incomplete frame: wait for more bytes
        // A whole frame was consumed and nothing came of it: a message type this protocol does not know.
        throw new InvalidDataException($"unsupported message type {TypeOf(before.Slice(0, before.Length - input.Length))}: this server speaks the JSON hub protocol, version 1");
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

    private static string TypeOf(ReadOnlySequence<byte> frame)
    {
        try
        {
            var json = frame.ToArray().AsSpan().TrimEnd((byte)0x1e);
            using var document = JsonDocument.Parse(json.ToArray());
            return document.RootElement.TryGetProperty("type", out var type) ? type.GetRawText() : "(none)";
        }
        catch (JsonException)
        {
            return "(unreadable)";
        }
    }
}
