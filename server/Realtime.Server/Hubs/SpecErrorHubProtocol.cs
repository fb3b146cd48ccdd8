using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Realtime.Server.Hubs;

/// <summary>
/// SignalR sends a HubException as "An unexpected error occurred invoking 'X' on the server.
/// HubException: [Code] text". SPEC §4 promises the message starts with the code, so error
/// completions are cut down to our part on the way out; everything else passes through.
/// </summary>
internal sealed class SpecErrorHubProtocol(IHubProtocol inner) : IHubProtocol
{
    private const string Marker = "HubException: [";

    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message) =>
        inner.TryParseMessage(ref input, binder, out message);

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => inner.WriteMessage(Rewrite(message), output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => inner.GetMessageBytes(Rewrite(message));

    internal static HubMessage Rewrite(HubMessage message)
    {
        if (message is not CompletionMessage { Error: { } error, InvocationId: { } id }) return message;
        var at = error.IndexOf(Marker, StringComparison.Ordinal);
        return at < 0 ? message : CompletionMessage.WithError(id, error[(at + Marker.Length - 1)..]);
    }
}
