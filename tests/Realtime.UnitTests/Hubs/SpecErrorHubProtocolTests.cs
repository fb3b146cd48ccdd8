using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Server.Hubs;

namespace Realtime.UnitTests.Hubs;

public sealed class SpecErrorHubProtocolTests
{
    private static string? Rewritten(string error) => ((CompletionMessage)SpecErrorHubProtocol.Rewrite(CompletionMessage.WithError("1", error))).Error;

    [Fact]
    public void Rewrite_HubException_KeepsOnlyTheCodeAndText() =>
        Assert.Equal("[GroupNotFound] group g does not exist",
            Rewritten("An unexpected error occurred invoking 'SearchGroup' on the server. HubException: [GroupNotFound] group g does not exist"));

    [Fact]
    public void Rewrite_ArgumentCountFailure_InvalidArgumentWithExpectedCountAndSignalRsDetail() =>
        Assert.Equal("[InvalidArgument] TransferOwnership expected 2 arguments (InvalidDataException: Invocation provides 1 argument(s) but target expects 2.)",
            Rewritten("Failed to invoke 'TransferOwnership' due to an error on the server. InvalidDataException: Invocation provides 1 argument(s) but target expects 2."));

    [Fact]
    public void Rewrite_MethodNameInOtherCase_FoundAsSignalRFindsIt() =>
        Assert.StartsWith("[InvalidArgument] creategroup expected 1 argument", Rewritten("Failed to invoke 'creategroup' due to an error on the server."));

    [Fact]
    public void Rewrite_UnknownMethod_InvalidArgumentNamingIt() =>
        Assert.Equal("[InvalidArgument] unknown hub method 'Nope'",
            Rewritten("Failed to invoke 'Nope' due to an error on the server. HubException: Method does not exist."));

    [Fact]
    public void Rewrite_NonErrors_Untouched()
    {
        var ping = PingMessage.Instance;
        Assert.Same(ping, SpecErrorHubProtocol.Rewrite(ping));
        var result = CompletionMessage.WithResult("1", 5);
        Assert.Same(result, SpecErrorHubProtocol.Rewrite(result));
    }

    [Theory]
    [InlineData("The client attempted to invoke the non-streaming 'CreateGroup' method with a streaming invocation.",
        "[InvalidArgument] The client attempted to invoke the non-streaming 'CreateGroup' method with a streaming invocation.")]
    [InlineData("An unexpected error occurred invoking 'CreateGroup' on the server. HubException: Client sent 1 stream(s), Hub method expects 0.",
        "[InvalidArgument] Client sent 1 stream(s), Hub method expects 0.")]
    public void Rewrite_SignalRsOwnWordsAboutTheFrame_InvalidArgument(string error, string expected) =>
        Assert.Equal(expected, Rewritten(error));
}
