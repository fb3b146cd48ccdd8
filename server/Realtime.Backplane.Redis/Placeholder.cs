namespace Realtime.Backplane.Redis;
internal static class Placeholder { }
