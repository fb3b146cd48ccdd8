using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Infrastructure;

public static class Expect
{
    /// <summary>The call fails with the spec's "[Code] message" hub error; returns the message.</summary>
    public static async Task<string> HubError(ErrorCode code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<HubErrorException>(call);
        Assert.StartsWith($"[{code}] ", e.Message);
        return e.Message;
    }

    /// <summary>Nothing matching arrives within a short window (used only after a later event was seen, so the window is a bound, not a synchroniser).</summary>
    public static void NoneReceived(TestTerminal client, string target, Func<System.Text.Json.JsonElement[], bool> match) =>
        Assert.DoesNotContain(client.Received, r => r.Target == target && match(r.Args));

    /// <summary>Waits (bounded) until a state the test cannot be told about by an event holds, such as a row lock being waited on.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TestTerminal.DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {limit.TotalSeconds:0} s waiting until {what}.");
            await Task.Delay(10);
        }
    }
}
