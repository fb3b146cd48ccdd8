namespace Realtime.IntegrationTests.Backplane;

internal static class TestTimeouts
{
    /// <summary>Longest a single expected message or operation may take.</summary>
    /// <remarks>Generous: the whole suite runs tests in parallel on two cores.</remarks>
    public static readonly TimeSpan Message = TimeSpan.FromSeconds(20);

    /// <summary>Longest Redis may take to come back and the backplane to recover.</summary>
    public static readonly TimeSpan Recovery = TimeSpan.FromSeconds(45);

    public static Task Within(this Task task) => task.WaitAsync(Message);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Message);
}
