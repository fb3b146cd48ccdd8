using System.Text.Json;
using Realtime.Server;
using Realtime.Server.Errors;

namespace Realtime.UnitTests.Foundation;

public sealed class RealtimeJsonTests
{
    private sealed record Sample(string Name, int? Count);

    [Fact]
    public void Bind_KnownFields_Binds()
    {
        var sample = RealtimeJson.Bind<Sample>(JsonDocument.Parse("""{"name":"x","count":2}""").RootElement);
        Assert.Equal(new Sample("x", 2), sample);
    }

    [Fact]
    public void Bind_UnknownField_InvalidArgumentNamingIt()
    {
        var e = Assert.Throws<RealtimeException>(() =>
            RealtimeJson.Bind<Sample>(JsonDocument.Parse("""{"name":"x","colour":"red"}""").RootElement));
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.Contains("colour", e.Message);
    }

    [Fact]
    public void Bind_WrongType_InvalidArgumentNamingField()
    {
        var e = Assert.Throws<RealtimeException>(() =>
            RealtimeJson.Bind<Sample>(JsonDocument.Parse("""{"name":"x","count":"many"}""").RootElement));
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.StartsWith("count", e.Message);
    }

    [Fact]
    public void Bind_NotAnObject_InvalidArgument()
    {
        var e = Assert.Throws<RealtimeException>(() => RealtimeJson.Bind<Sample>(JsonDocument.Parse("[1]").RootElement));
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
    }
}
